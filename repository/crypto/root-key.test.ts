import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RootKey } from './root-key.ts';

// An independent HKDF (RFC 5869 extract + expand written out), to check the infos of FORMAT.md.
function hkdf(ikm: Buffer, salt: Buffer, info: string, length: number): Buffer {
  const prk = createHmac('sha256', salt.length === 0 ? Buffer.alloc(32) : salt).update(ikm).digest();
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * 32 < length; i++) {
    previous = createHmac('sha256', prk).update(Buffer.concat([previous, Buffer.from(info, 'ascii'), Buffer.of(i)])).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const root = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const id = 'ab'.repeat(32);

describe('RootKey', () => {
  it('derives the subkeys of FORMAT.md section 2', () => {
    const key = new RootKey(root, id);
    const blobKey = hkdf(root, Buffer.alloc(0), 'georep/v1/blob-id', 32);
    expect(key.blobId(Buffer.from('chunk'))).toBe(createHmac('sha256', blobKey).update('chunk').digest('hex'));
    const gear = hkdf(root, Buffer.alloc(0), 'georep/v1/gear', 1024);
    const table = key.gearTable();
    expect(table).toHaveLength(256);
    expect(table[0]).toBe(gear.readUInt32LE(0));
    expect(table[255]).toBe(gear.readUInt32LE(1020));
    const salt = randomBytes(32);
    expect(key.packKey(salt).export()).toEqual(hkdf(root, salt, 'georep/v1/pack', 32));
    expect(key.objectKey(salt).export()).toEqual(hkdf(root, salt, 'georep/v1/object', 32));
    expect(key.packKey(salt).export()).not.toEqual(key.objectKey(salt).export());
  });

  it('gives the same blob ids in every instance, and other ids under another root', () => {
    const data = randomBytes(1000);
    expect(new RootKey(root, id).blobId(data)).toBe(new RootKey(Buffer.from(root), id).blobId(data));
    expect(new RootKey(randomBytes(32), id).blobId(data)).not.toBe(new RootKey(root, id).blobId(data));
  });

  it('keeps its own copy of the root, and exports a copy', () => {
    const mine = Buffer.from(root);
    const key = new RootKey(mine, id);
    const before = key.blobId(Buffer.from('x'));
    mine.fill(0);
    expect(key.blobId(Buffer.from('x'))).toBe(before);
    const raw = key.exportRaw();
    expect(raw).toEqual(root);
    raw.fill(0);
    expect(key.exportRaw()).toEqual(root);
  });

  it('never shows the root in logs or JSON', () => {
    const key = new RootKey(root, id);
    const shown = `${inspect(key, { showHidden: true, depth: 5 })} ${JSON.stringify(key)} ${JSON.stringify({ key })}`;
    expect(shown).toContain(id);
    expect(shown).not.toContain(root.toString('hex'));
    expect(shown).not.toContain(root.toString('base64'));
  });

  it('refuses bad roots, ids and salts', () => {
    expect(() => new RootKey(Buffer.alloc(31), id)).toThrow(RangeError);
    expect(() => new RootKey(root, 'AB'.repeat(32))).toThrow(RangeError);
    expect(() => new RootKey(root, id).packKey(Buffer.alloc(16))).toThrow(RangeError);
  });
});
