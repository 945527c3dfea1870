// `georep repair` at one site: each object an open finding says is missing, corrupt or of the
// wrong size is replaced by the same bytes from a healthy copy (fetch-healthy.ts: the hash is
// checked BEFORE anything is written), written with a plain put (which replaces a damaged object;
// at an Object Lock site it becomes a new current version, under the retention the source's copy
// has, and the damaged version stays behind until its own retention ends), then read back: the
// site must report the size and give back bytes whose SHA-256 is the name. Only then is the
// finding resolved as repaired.
//
// Deleting is not repair's job: `unexpected` objects are reported and left alone, except with
// removeUnexpected, and then only an object whose key is no georep object name at all (a stray
// file: no reader ever asks for such a key, so nothing can need it), after a fresh listing still
// shows it and a HEAD confirms it. A pack no index describes is never removed here, even on
// request: a writer in flight may be about to index it (that is prune's two-phase job). `unreadable`
// findings are skipped: verify again once the site answers. A finding on a manifest whose blobs
// no index at the site describes is healed by heal-index.ts (with the key); a site without any key
// file gets every key file of a healthy site (each checked against its name).
import type { CatalogDb } from '../../catalog/db.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { notePackChecks, resolveGone, resolveRepaired, type FindingKind, type FindingRecord } from '../../catalog/queries/findings.ts';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import type { Site } from '../../sites/site.ts';
import type { Repository } from '../../repository/repository.ts';
import { classifyKey } from '../scrub/object-names.ts';
import { fetchHealthy, type Source } from './fetch-healthy.ts';
import { healManifest } from './heal-index.ts';

const HEALABLE: readonly FindingKind[] = ['missing', 'corrupt', 'wrong-size'];

export interface RepairInput {
  db: CatalogDb;
  target: { name: string; site: Site; objectLock: boolean };
  /** Where healthy copies may come from, in order of preference. */
  sources: readonly Source[];
  /** The target's open findings. */
  findings: readonly FindingRecord[];
  apply: boolean;
  /**
   * The repository opened with the password, asked for only when a manifest's missing index
   * objects are to be healed (they are encrypted); repair needs no password otherwise.
   */
  openKey?: () => Promise<Repository | undefined>;
  /** Delete unexpected objects whose key is no georep name, after a second listing and a HEAD. */
  removeUnexpected?: boolean;
  actor: string;
  clock: Clock;
}

export type RepairState = 'repaired' | 'would-repair' | 'removed' | 'would-remove' | 'unhealed' | 'left';

export interface RepairOutcome {
  site: string;
  key: string;
  kinds: FindingKind[];
  state: RepairState;
  /** Where the bytes came from. */
  from?: string;
  detail: string;
}

export async function repairSite(input: RepairInput): Promise<RepairOutcome[]> {
  const byKey = new Map<string, FindingKind[]>();
  for (const f of input.findings) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.kind]);
  const out: RepairOutcome[] = [];
  for (const [key, kinds] of byKey) {
    const base = { site: input.target.name, key, kinds };
    if (kinds.includes('unexpected') && input.removeUnexpected === true && classifyKey(key).type === 'foreign') {
      out.push(await removeStray(input, key, kinds));
      continue;
    }
    if (!kinds.some((k) => HEALABLE.includes(k))) {
      out.push({ ...base, state: 'left', detail: kinds.includes('unexpected') ? 'unexpected objects are reported, never deleted by repair' : 'the site did not answer: verify again once it does' });
      continue;
    }
    if (key.startsWith('snapshots/') && kinds.includes('missing') && (await present(input.target.site, key))) {
      out.push(await healIndex(input, key, kinds));
      continue;
    }
    if (key === 'keys/') {
      out.push(await copyKeyFiles(input, kinds));
      continue;
    }
    out.push(await repairObject(input, key, kinds));
  }
  return out;
}

async function repairObject(input: RepairInput, key: string, kinds: FindingKind[]): Promise<RepairOutcome> {
  const { target } = input;
  const base = { site: target.name, key, kinds };
  const fetched = await fetchHealthy(key, input.sources);
  if (!fetched.ok) return { ...base, state: 'unhealed', detail: fetched.why };
  if (!input.apply) return { ...base, state: 'would-repair', from: fetched.from, detail: `${fetched.bytes.byteLength} bytes checked at ${fetched.from}` };
  const name = classifyKey(key);
  const now = input.clock.nowMs();
  const retention = target.objectLock && fetched.retention !== undefined && fetched.retention.until.getTime() > now ? fetched.retention : undefined;
  try {
    await target.site.put(key, fetched.bytes, retention === undefined ? {} : { retention });
    const head = await target.site.head(key);
    if (head.size !== fetched.bytes.byteLength) throw new Error(`after the put the site reports ${head.size} bytes, not ${fetched.bytes.byteLength}`);
    const back = await target.site.get(key);
    if (sha256Hex(back) !== sha256Hex(fetched.bytes)) throw new Error('after the put the site gives back other bytes');
  } catch (err) {
    return { ...base, state: 'unhealed', from: fetched.from, detail: `writing the healthy copy failed: ${describeError(err)}` };
  }
  await resolveRepaired(input.db, target.name, key, HEALABLE);
  // Present again, but not verified: the bytes are the shipped ones (hash = name), their blobs were
  // not authenticated here. verified_at is cleared so that the next sampled deep verify reads it first.
  if (name.type === 'pack') await notePackChecks(input.db, target.name, { replaced: [name.id] });
  await appendAudit(input.db, {
    actor: input.actor,
    action: 'repair.object',
    subject: target.name,
    details: { key, kinds, from: fetched.from, bytes: fetched.bytes.byteLength, ...(retention === undefined ? {} : { retainUntil: retention.until.toISOString() }) },
  });
  return { ...base, state: 'repaired', from: fetched.from, detail: `${fetched.bytes.byteLength} bytes from ${fetched.from}, read back and hash-checked` };
}

async function healIndex(input: RepairInput, key: string, kinds: FindingKind[]): Promise<RepairOutcome> {
  const base = { site: input.target.name, key, kinds };
  if (!input.apply) return { ...base, state: 'would-repair', detail: 'would copy the index objects (and packs) it needs that the site lacks from a healthy site' };
  const from = await input.openKey?.();
  if (from === undefined) {
    return { ...base, state: 'unhealed', detail: 'blobs it needs are in no index object here; healing that needs the repository opened with the password' };
  }
  const healed = await healManifest({ target: input.target, sources: input.sources, from, snapshot: key.slice('snapshots/'.length) });
  if (!healed.ok) return { ...base, state: 'unhealed', detail: healed.why };
  await resolveRepaired(input.db, input.target.name, key, ['missing']);
  await appendAudit(input.db, { actor: input.actor, action: 'repair.index', subject: input.target.name, details: { key, from: healed.from, copied: healed.copied } });
  return { ...base, state: 'repaired', from: healed.from, detail: `copied ${healed.copied.join(', ')} from ${healed.from}, each hash-checked` };
}

async function copyKeyFiles(input: RepairInput, kinds: FindingKind[]): Promise<RepairOutcome> {
  const base = { site: input.target.name, key: 'keys/', kinds };
  for (const source of input.sources) {
    const keys: string[] = [];
    try {
      for await (const info of source.site.list('keys/')) if (classifyKey(info.key).type === 'key') keys.push(info.key);
    } catch {
      continue;
    }
    if (keys.length === 0) continue;
    if (!input.apply) return { ...base, state: 'would-repair', from: source.name, detail: `would copy ${keys.length} key file(s)` };
    let copied = 0;
    for (const k of keys) {
      const fetched = await fetchHealthy(k, [source]);
      if (!fetched.ok) continue;
      try {
        await input.target.site.put(k, fetched.bytes);
        if (sha256Hex(await input.target.site.get(k)) === sha256Hex(fetched.bytes)) copied++;
      } catch (err) {
        return { ...base, state: 'unhealed', detail: `writing key file ${k} failed: ${describeError(err)}` };
      }
    }
    if (copied === 0) continue;
    await resolveRepaired(input.db, input.target.name, 'keys/', ['missing']);
    await appendAudit(input.db, { actor: input.actor, action: 'repair.object', subject: input.target.name, details: { key: 'keys/', from: source.name, keyFiles: copied } });
    return { ...base, state: 'repaired', from: source.name, detail: `${copied} key file(s) copied from ${source.name}, hash-checked` };
  }
  return { ...base, state: 'unhealed', detail: 'no other site holds a sound key file' };
}

async function removeStray(input: RepairInput, key: string, kinds: FindingKind[]): Promise<RepairOutcome> {
  const { site, name } = input.target;
  const base = { site: name, key, kinds };
  try {
    let listed = false;
    for await (const info of site.list(key)) if (info.key === key) listed = true;
    if (!listed || !(await present(site, key))) {
      return { ...base, state: 'left', detail: 'no longer there (a second listing or a HEAD does not show it): verify again' };
    }
    if (!input.apply) return { ...base, state: 'would-remove', detail: 'not a georep object name; confirmed by a second listing and a HEAD' };
    await site.delete(key);
  } catch (err) {
    return { ...base, state: 'unhealed', detail: `could not remove it: ${describeError(err)}` };
  }
  await resolveGone(input.db, name, key);
  await appendAudit(input.db, { actor: input.actor, action: 'repair.remove', subject: name, details: { key } });
  return { ...base, state: 'removed', detail: 'not a georep object name; removed after a second listing and a HEAD confirmed it' };
}

async function present(site: Site, key: string): Promise<boolean> {
  try {
    await site.head(key);
    return true;
  } catch {
    return false;
  }
}
