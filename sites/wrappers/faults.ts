// FaultySite, for tests: injects the failures real sites produce, under program control, so the
// layers above (retry, verification, the replicator) can be shown to cope.
//
// - Rules are matched by operation and key (a string is a key prefix, a RegExp is tested against
//   the key; for list() the prefix argument stands for the key). Each rule affects at most
//   `times` matching calls (default: all of them), counted from when it is added.
// - Every matching rule applies, in the order added: 'delay', 'hang' and 'fail' before the call
//   reaches the inner site; body faults on the way in (put); result faults on the way out (get).
// - fail: throws `error` (default: a RetryableError, like a reset connection). A function makes
//   a fresh error per call.
// - delay: waits `ms` on the clock, then goes on.
// - hang: never answers; rejects with the signal's reason when aborted, or after `timeoutMs`
//   with a TimeoutError (what a client timeout would raise).
// - flipBit (get): flips one bit of the returned bytes, at `offset` (default random) and `bit`
//   (default random).
// - truncate (get): returns only the first `length` bytes (default half).
// - corruptPut (put): the inner site receives the body with one bit flipped. The declared md5, if
//   any, is kept, so a site that checks Content-MD5 must refuse the put.
// - failPutHalfway (put): the inner site receives a StreamBody that fails after half its bytes,
//   so the backend's "no partial object" guarantee is exercised for real.
// - calls counts every call per operation, faulted or not.
import type { Clock } from '../../core/clock.ts';
import { RetryableError, TimeoutError } from '../errors.ts';
import type { GetOptions, ObjectInfo, OpOptions, PutBody, PutOptions, PutResult, Retention, Site } from '../site.ts';
import { mapBody } from './body.ts';
import { ForwardingSite } from './forwarding.ts';
import { perOp, SITE_OPS, type SiteOp } from './ops.ts';

export type Fault =
  | { kind: 'fail'; error?: Error | ((op: SiteOp, key: string) => Error) }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang'; timeoutMs?: number }
  | { kind: 'flipBit'; offset?: number; bit?: number }
  | { kind: 'truncate'; length?: number }
  | { kind: 'corruptPut'; offset?: number; bit?: number }
  | { kind: 'failPutHalfway'; error?: Error | ((op: SiteOp, key: string) => Error) };

export interface FaultRule {
  fault: Fault;
  /** Operations it applies to; default every operation the fault makes sense for. */
  ops?: SiteOp | readonly SiteOp[];
  /** Key prefix, or pattern tested against the key. Default: every key. */
  key?: string | RegExp;
  /** How many matching calls it affects. Default: unlimited. */
  times?: number;
}

export type FaultRules = readonly FaultRule[];

export interface FaultySiteOptions {
  /** Uniform in [0, 1) for random offsets and bits. Default Math.random. */
  random?: () => number;
}

const FAULT_OPS: Record<Fault['kind'], readonly SiteOp[]> = {
  fail: SITE_OPS,
  delay: SITE_OPS,
  hang: SITE_OPS,
  flipBit: ['get'],
  truncate: ['get'],
  corruptPut: ['put'],
  failPutHalfway: ['put'],
};

interface ActiveRule {
  fault: Fault;
  ops: readonly SiteOp[];
  key: string | RegExp | undefined;
  remaining: number;
}

export class FaultySite extends ForwardingSite {
  /** Calls per operation since construction (or resetCalls()). */
  readonly calls: Record<SiteOp, number> = perOp(() => 0);
  private readonly clock: Clock;
  private readonly random: () => number;
  private rules: ActiveRule[] = [];

  constructor(inner: Site, clock: Clock, rules: FaultRules = [], options: FaultySiteOptions = {}) {
    super(inner);
    this.clock = clock;
    this.random = options.random ?? Math.random;
    for (const rule of rules) this.add(rule);
  }

  add(rule: FaultRule): this {
    const allowed = FAULT_OPS[rule.fault.kind];
    const ops = rule.ops === undefined ? allowed : typeof rule.ops === 'string' ? [rule.ops] : rule.ops;
    const wrong = ops.filter((op) => !allowed.includes(op));
    if (wrong.length > 0) throw new RangeError(`fault ${rule.fault.kind} cannot apply to ${wrong.join(', ')}`);
    this.rules.push({ fault: rule.fault, ops, key: rule.key, remaining: rule.times ?? Infinity });
    return this;
  }

  clear(): void {
    this.rules = [];
  }

  resetCalls(): void {
    for (const op of Object.keys(this.calls) as SiteOp[]) this.calls[op] = 0;
  }

  override async *list(prefix: string, options: OpOptions = {}): AsyncGenerator<ObjectInfo> {
    const faults = this.enter('list', prefix);
    await this.before(faults, 'list', prefix, options.signal);
    yield* this.inner.list(prefix, options);
  }

  override async head(key: string, options: OpOptions = {}): Promise<ObjectInfo> {
    const faults = this.enter('head', key);
    await this.before(faults, 'head', key, options.signal);
    return this.inner.head(key, options);
  }

  override async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    const faults = this.enter('get', key);
    await this.before(faults, 'get', key, options.signal);
    let bytes = await this.inner.get(key, options);
    for (const fault of faults) {
      if (fault.kind === 'flipBit' && bytes.length > 0) {
        bytes = Buffer.from(bytes);
        const offset = fault.offset ?? this.randomInt(bytes.length);
        bytes[offset] = (bytes[offset] ?? 0) ^ (1 << (fault.bit ?? this.randomInt(8)));
      } else if (fault.kind === 'truncate') {
        bytes = bytes.subarray(0, fault.length ?? Math.floor(bytes.length / 2));
      }
    }
    return bytes;
  }

  override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    const faults = this.enter('put', key);
    await this.before(faults, 'put', key, options.signal);
    let sent = body;
    for (const fault of faults) {
      if (fault.kind === 'corruptPut') sent = this.corrupt(sent, fault.offset, fault.bit);
      else if (fault.kind === 'failPutHalfway') sent = this.cutHalfway(sent, this.errorFor(fault.error, 'put', key));
    }
    return this.inner.put(key, sent, options);
  }

  override async delete(key: string, options: OpOptions = {}): Promise<void> {
    const faults = this.enter('delete', key);
    await this.before(faults, 'delete', key, options.signal);
    return this.inner.delete(key, options);
  }

  override async extendRetention(key: string, retention: Retention, options: OpOptions = {}): Promise<Retention> {
    const faults = this.enter('extendRetention', key);
    await this.before(faults, 'extendRetention', key, options.signal);
    return this.inner.extendRetention(key, retention, options);
  }

  /** Counts the call and claims one use of every rule that matches it. */
  private enter(op: SiteOp, key: string): Fault[] {
    this.calls[op]++;
    const faults: Fault[] = [];
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || !rule.ops.includes(op) || !keyMatches(rule.key, key)) continue;
      rule.remaining--;
      faults.push(rule.fault);
    }
    return faults;
  }

  private async before(faults: Fault[], op: SiteOp, key: string, signal: AbortSignal | undefined): Promise<void> {
    for (const fault of faults) {
      if (fault.kind === 'delay') await this.clock.sleep(fault.ms, signal);
      else if (fault.kind === 'hang') await this.hang(fault.timeoutMs, op, key, signal);
      else if (fault.kind === 'fail') throw this.errorFor(fault.error, op, key);
    }
  }

  private async hang(
    timeoutMs: number | undefined,
    op: SiteOp,
    key: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (timeoutMs !== undefined) {
      await this.clock.sleep(timeoutMs, signal);
      throw new TimeoutError(
        `injected hang: ${op} ${JSON.stringify(key)} at site ${this.name} timed out after ${timeoutMs} ms`,
        { site: this.name, key },
      );
    }
    await new Promise<never>((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  private errorFor(error: Error | ((op: SiteOp, key: string) => Error) | undefined, op: SiteOp, key: string): Error {
    if (typeof error === 'function') return error(op, key);
    const message = `injected fault: ${op} ${JSON.stringify(key)} at site ${this.name}`;
    return error ?? new RetryableError(message, { site: this.name, key });
  }

  private corrupt(body: PutBody, offset: number | undefined, bit: number | undefined): PutBody {
    const size = body instanceof Uint8Array ? body.byteLength : body.size;
    if (size === 0) return body;
    const at = offset ?? this.randomInt(size);
    const mask = 1 << (bit ?? this.randomInt(8));
    if (body instanceof Uint8Array) {
      const copy = Buffer.from(body);
      copy[at] = (copy[at] ?? 0) ^ mask;
      return copy;
    }
    return mapBody(body, async function* (chunks) {
      let position = 0;
      for await (const chunk of chunks) {
        const end = position + chunk.byteLength;
        if (at >= position && at < end) {
          const copy = Buffer.from(chunk);
          copy[at - position] = (copy[at - position] ?? 0) ^ mask;
          yield copy;
        } else {
          yield chunk;
        }
        position = end;
      }
    });
  }

  private cutHalfway(body: PutBody, error: Error): PutBody {
    const size = body instanceof Uint8Array ? body.byteLength : body.size;
    const half = Math.floor(size / 2);
    return mapBody(body, async function* (chunks) {
      let position = 0;
      for await (const chunk of chunks) {
        const room = half - position;
        if (chunk.byteLength >= room) {
          if (room > 0) yield chunk.subarray(0, room);
          throw error;
        }
        position += chunk.byteLength;
        yield chunk;
      }
      throw error;
    });
  }

  private randomInt(below: number): number {
    return Math.min(below - 1, Math.floor(this.random() * below));
  }
}

function keyMatches(pattern: string | RegExp | undefined, key: string): boolean {
  if (pattern === undefined) return true;
  if (typeof pattern === 'string') return key.startsWith(pattern);
  pattern.lastIndex = 0;
  return pattern.test(key);
}
