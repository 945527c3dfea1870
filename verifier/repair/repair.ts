// `georep repair` at one site: each object an open finding says is missing, corrupt or of the
// wrong size is replaced by the same bytes from a healthy copy (fetch-healthy.ts: the hash is
// checked BEFORE anything is written), written with a plain put (which replaces a damaged object;
// at an Object Lock site it becomes a new current version, under the retention the source's copy
// has, and the damaged version stays behind until its own retention ends), then read back: the
// site must report the size and give back bytes whose SHA-256 is the name. Only then is the
// finding resolved as repaired.
//
// Never deleted: `unexpected` objects are reported and left alone (a listing is no proof that
// nothing needs them, and repair's job is to add what is missing, not to remove). `unreadable`
// findings are skipped: verify again once the site answers. A finding on a manifest whose blobs
// no index at the site describes is healed through the packs and index objects it names: that
// is left to `georep ship` and reported as such.
import type { CatalogDb } from '../../catalog/db.ts';
import { appendAudit } from '../../catalog/queries/audit.ts';
import { notePackChecks, resolveRepaired, type FindingKind, type FindingRecord } from '../../catalog/queries/findings.ts';
import type { Clock } from '../../core/clock.ts';
import { describeError } from '../../core/errors.ts';
import { sha256Hex } from '../../repository/crypto/hash.ts';
import type { Site } from '../../sites/site.ts';
import { classifyKey } from '../scrub/object-names.ts';
import { fetchHealthy, type Source } from './fetch-healthy.ts';

const HEALABLE: readonly FindingKind[] = ['missing', 'corrupt', 'wrong-size'];

export interface RepairInput {
  db: CatalogDb;
  target: { name: string; site: Site; objectLock: boolean };
  /** Where healthy copies may come from, in order of preference. */
  sources: readonly Source[];
  /** The target's open findings. */
  findings: readonly FindingRecord[];
  apply: boolean;
  actor: string;
  clock: Clock;
}

export type RepairState = 'repaired' | 'would-repair' | 'unhealed' | 'left';

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
    if (!kinds.some((k) => HEALABLE.includes(k))) {
      out.push({ ...base, state: 'left', detail: kinds.includes('unexpected') ? 'unexpected objects are reported, never deleted by repair' : 'the site did not answer: verify again once it does' });
      continue;
    }
    if (key.startsWith('snapshots/') && kinds.includes('missing') && (await present(input.target.site, key))) {
      out.push({ ...base, state: 'left', detail: 'the manifest is there but blobs it needs are in no index at the site: georep ship --to this site sends the index objects and packs it lacks' });
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
  if (name.type === 'pack') await notePackChecks(input.db, target.name, { sound: [name.id] });
  await appendAudit(input.db, {
    actor: input.actor,
    action: 'repair.object',
    subject: target.name,
    details: { key, kinds, from: fetched.from, bytes: fetched.bytes.byteLength, ...(retention === undefined ? {} : { retainUntil: retention.until.toISOString() }) },
  });
  return { ...base, state: 'repaired', from: fetched.from, detail: `${fetched.bytes.byteLength} bytes from ${fetched.from}, read back and hash-checked` };
}

async function present(site: Site, key: string): Promise<boolean> {
  try {
    await site.head(key);
    return true;
  } catch {
    return false;
  }
}
