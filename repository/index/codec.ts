// Index objects (FORMAT.md section 5): the JSON value inside an `index/<hex64>` object. The
// Repository encrypts and decrypts it (section 3); this file only shapes and checks it.
import { TAG_LENGTH } from '../crypto/aead.ts';
import { isHex64 } from '../crypto/hash.ts';
import { contiguityProblem, decodeEntries, decodePackType, encodeEntry, type EncodedEntry } from '../pack/entries.ts';
import { TRAILER_SIZE } from '../pack/layout.ts';
import { JsonReader } from '../strict-json.ts';
import type { PackDescription } from '../types.ts';

export const INDEX_VERSION = 1;

export interface EncodedIndex {
  version: 1;
  packs: { id: string; type: string; size: number; blobs: EncodedEntry[] }[];
}

/** The index value describing `packs`, in the given order; JSON.stringify it to store. */
export function encodeIndex(packs: readonly PackDescription[]): EncodedIndex {
  return {
    version: INDEX_VERSION,
    packs: packs.map((p) => ({ id: p.id, type: p.type, size: p.size, blobs: p.blobs.map(encodeEntry) })),
  };
}

/**
 * The packs an index value describes, checked strictly (unknown or missing fields, bad ids,
 * entries that overlap or run past the pack's blobs area, a pack listed twice: FormatError naming
 * `objectName`). The index is authenticated but only a cache: every blob is still checked on read.
 */
export function decodeIndex(value: unknown, objectName: string): PackDescription[] {
  const json = new JsonReader(objectName, 'index');
  const rec = json.record(value, ['version', 'packs']);
  if (rec.version !== INDEX_VERSION) throw json.fail(`version ${JSON.stringify(rec.version)} is not supported (this georep reads ${INDEX_VERSION})`);
  if (!Array.isArray(rec.packs)) throw json.fail('packs must be an array');
  const seen = new Set<string>();
  return rec.packs.map((raw: unknown, i) => {
    const where = `packs[${i}]`;
    const p = json.record(raw, ['id', 'type', 'size', 'blobs'], where);
    if (!isHex64(p.id)) throw json.fail(`${where}: id must be 64 lowercase hex digits`);
    if (seen.has(p.id)) throw json.fail(`${where}: pack ${p.id} is listed twice`);
    seen.add(p.id);
    const type = decodePackType(json, p.type, `${where} type`);
    const size = json.integer(p.size, `${where} size`);
    const blobs = decodeEntries(json, p.blobs, type, `${where} blobs`);
    // The header's length is not in the index, so blobs may end anywhere up to the smallest header.
    const problem = contiguityProblem(blobs, size - TRAILER_SIZE - TAG_LENGTH, true);
    if (problem !== undefined) throw json.fail(`${where}: ${problem}`);
    return { id: p.id, type, size, blobs };
  });
}
