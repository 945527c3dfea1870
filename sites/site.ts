// The one seam between georep and a partner site's storage. Every backend (s3, file) and every
// wrapper (retry, limits, faults, metrics) implements exactly this, so they stack in any order.
//
// Contract, checked by the conformance suite (sites/conformance.ts) against every backend:
//
// - Keys are non-empty strings of '/'-separated segments, each segment [A-Za-z0-9._-]+ and never
//   '.' or '..'. A backend refuses any other key with a PermanentError before touching storage.
//   Keys are relative to the site's own bucket/prefix or folder; a site never reaches outside it.
//   A backend keeps its own bookkeeping (temporary files...) under names outside that alphabet,
//   so it can never collide with a key. georep never uses a key that is also a prefix segment of
//   another key ('a' and 'a/b'), which a folder cannot hold.
// - put() is atomic: afterwards the object is either wholly there with exactly the given bytes or
//   not there at all. A body that fails half way, a dropped connection or a killed process never
//   leaves a partial object under the key (a stray temporary may remain, never under a valid key).
//   When put() resolves, the object is durable at the site (fsynced, or acknowledged by S3).
// - put({ createOnly: true }) fails with PreconditionFailedError when the key exists and leaves
//   the old bytes unchanged. Sites that cannot do this atomically say so in capabilities
//   (createOnly: false), and then create-only is emulated with a HEAD first (racy: a caller that
//   needs the guarantee must check the capability). Ceph 16 ignores If-None-Match in versioned
//   buckets, and Object Lock buckets are always versioned: the probe measures this, per site.
//   A create-only put retried after a lost answer may meet its own object: PreconditionFailedError
//   then means "something is there", and only the caller can compare the bytes.
// - put() sends an MD5 of the body where the protocol allows (Content-MD5), so a body damaged in
//   transit is refused rather than stored.
// - get() of a missing key, head() of a missing key: NotFoundError. delete() of a missing key is
//   not an error (S3 semantics), so deletes can be retried.
// - get() with a range returns exactly the bytes [offset, offset+length) clipped at the object's
//   end; an offset at or past the end of a non-empty object is a PermanentError (S3 416).
// - list(prefix) yields every object whose key starts with prefix, each once, in no promised
//   order, with its size. A listing may be stale on eventually-consistent sites: never conclude
//   from one listing that an object is gone. Listings never carry retention (S3 listings have
//   none): head() each object whose retention matters.
// - Object Lock (only where capabilities.objectLock): head() reports the current version's
//   retention as `retention` when it has one, as the site stores it; its `until` may be past
//   (expired retention is no longer enforced: compare with the site's time, allowing for skew).
//   A site without Object Lock never reports retention.
// - extendRetention(key, {mode, until}) keeps the current version retained at least until
//   `until`, in at least `mode`: it never shortens and never turns COMPLIANCE into GOVERNANCE.
//   What is in force afterwards is the stronger of the two (COMPLIANCE if either is, the later
//   date), and that is what it returns. When that is already in force it writes nothing, so it
//   is idempotent and safe to retry. A site without Object Lock: PermanentError, before touching
//   storage; a missing key: NotFoundError. S3 keeps retain-until to the second, so `until` is
//   rounded up to the next whole second (up: rounding must never shorten). Raising GOVERNANCE
//   to COMPLIANCE sends S3's governance bypass, which S3 and Ceph demand for any change of a
//   GOVERNANCE retention's mode; nothing else ever bypasses.
// - delete() of an object under retention (COMPLIANCE; GOVERNANCE too, since georep never
//   bypasses it) or legal hold: ObjectLockedError (a PermanentError) naming the retain-until
//   date, and the object stays readable with the same bytes: no delete marker is left and the
//   current version is untouched (older, superseded versions may be gone). Once its retention
//   has passed, delete() removes it, every version.
// - Errors are SiteErrors (sites/errors.ts). Anything not recognised is a RetryableError when it
//   looks like a network failure and a PermanentError otherwise.
// - Every operation accepts an AbortSignal; an aborted operation rejects promptly.
import type { Readable } from 'node:stream';

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

/** Object Lock retention: until `until` the site refuses to delete the object (see the contract). */
export interface Retention {
  mode: RetentionMode;
  until: Date;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** The site's entity tag, without quotes, when it has one (S3). Not necessarily an MD5. */
  etag?: string;
  lastModified?: Date;
  /** The current version's Object Lock retention, from head() only; never set by list(). */
  retention?: Retention;
}

/** A body that is read once per attempt; `size` must be exact (S3 needs Content-Length). */
export interface StreamBody {
  size: number;
  open(): Readable;
  /** MD5 of the whole body, if the caller knows it; sent as Content-MD5. */
  md5?: Uint8Array;
}

export type PutBody = Uint8Array | StreamBody;

export interface PutOptions {
  /** Fail with PreconditionFailedError if the key exists (S3 If-None-Match: *). */
  createOnly?: boolean;
  /** Object Lock retention. A site without Object Lock refuses with PermanentError. */
  retention?: Retention;
  signal?: AbortSignal;
}

export interface PutResult {
  etag?: string;
}

export interface GetOptions {
  /** Byte range; length undefined means to the end. */
  range?: { offset: number; length?: number };
  /**
   * A buffer the site may read the bytes into when they fit: the result is then a view of its
   * start. A site may ignore it and return a buffer of its own; callers compare `result.buffer`.
   * The caller leaves it alone until the call has settled. For readers that read many ranges one
   * after another (a restore's spans): a fresh buffer of 1-4 MiB per read left holes in the
   * malloc heap that grew it by ~40 MiB over a 10 GiB restore.
   */
  into?: Uint8Array;
  signal?: AbortSignal;
}

export interface OpOptions {
  signal?: AbortSignal;
}

/** What a site can do. Static for `file`; measured by `georep site probe` for S3 endpoints. */
export interface SiteCapabilities {
  /** put({createOnly}) is atomic at the site (If-None-Match: * honoured, or O_EXCL/link). */
  createOnly: boolean;
  /** Object Lock retention is available (the bucket has it enabled). */
  objectLock: boolean;
  /** The site accepts the AWS SDK's default aws-chunked CRC trailers. Ceph 16 does not. */
  checksumTrailers: boolean;
  /** Multipart uploads work. */
  multipart: boolean;
  /** Ranged reads return exactly the requested bytes. */
  rangedReads: boolean;
  /** A freshly written object shows up in the next listing. */
  listAfterWrite: boolean;
}

export interface Site {
  /** The site's name, used in messages and logs. */
  readonly name: string;
  /** What this site can do, as configured or probed. */
  readonly capabilities: SiteCapabilities;

  list(prefix: string, options?: OpOptions): AsyncIterable<ObjectInfo>;
  head(key: string, options?: OpOptions): Promise<ObjectInfo>;
  get(key: string, options?: GetOptions): Promise<Buffer>;
  put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult>;
  delete(key: string, options?: OpOptions): Promise<void>;
  /** Never shortens nor downgrades; returns the retention in force afterwards (see above). */
  extendRetention(key: string, retention: Retention, options?: OpOptions): Promise<Retention>;
  /** Releases sockets and handles. The site must not be used afterwards. */
  close(): Promise<void>;
}

export function bodySize(body: PutBody): number {
  return body instanceof Uint8Array ? body.byteLength : body.size;
}
