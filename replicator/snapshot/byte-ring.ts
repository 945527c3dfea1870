// A first-in, first-out store of byte strings in one buffer allocated once. The chunking worker
// keeps chunks waiting for the coordinator's answer here instead of in a buffer each: thousands
// of ~1 MiB buffers, each living across several garbage collections, are what made the workers'
// memory balloon (they die in V8's old generation, which is collected rarely) and fragment.

/** Room in the ring: `bytes` is a view of the ring; `cost` is what release() must be given. */
export interface RingSlot {
  bytes: Buffer;
  cost: number;
}

/**
 * Contract: copy() returns a slot or, when there is no room now, undefined (the caller waits
 * for earlier slots to be released; a string no longer than the capacity always fits once the
 * ring is empty). Slots are released in the order they were taken, by the sum of their costs
 * (several at once is fine). A released slot's bytes must not be used again.
 */
export class ByteRing {
  private readonly buffer: Buffer;
  /** Where the next string goes. */
  private head = 0;
  /** Where the oldest string held starts. */
  private tail = 0;
  /** Bytes held, counting any end of the buffer skipped because a string did not fit there. */
  private used = 0;

  constructor(capacity: number) {
    // Its own memory (not Node's shared pool): a long-lived buffer of its own.
    this.buffer = Buffer.allocUnsafeSlow(capacity);
  }

  get capacity(): number {
    return this.buffer.length;
  }

  /** Bytes held, including skipped ends. */
  get held(): number {
    return this.used;
  }

  copy(bytes: Uint8Array): RingSlot | undefined {
    const length = bytes.byteLength;
    if (length > this.buffer.length) throw new RangeError(`${length} bytes do not fit in a ring of ${this.buffer.length}`);
    let at: number;
    let cost = length;
    if (this.used === 0) {
      this.head = this.tail = 0;
      at = 0;
    } else if (this.head > this.tail) {
      // Held: [tail, head). Free: [head, end) and [0, tail).
      if (length <= this.buffer.length - this.head) {
        at = this.head;
      } else if (length <= this.tail) {
        cost += this.buffer.length - this.head;
        at = 0;
      } else {
        return undefined;
      }
    } else {
      // Wrapped (or full): held [tail, end) and [0, head). Free: [head, tail).
      if (length > this.tail - this.head) return undefined;
      at = this.head;
    }
    this.buffer.set(bytes, at);
    this.head = at + length;
    this.used += cost;
    return { bytes: this.buffer.subarray(at, at + length), cost };
  }

  /** Gives back the oldest slots, `cost` being the sum of theirs. */
  release(cost: number): void {
    if (cost > this.used) throw new RangeError(`releasing ${cost} bytes of a ring holding ${this.used}`);
    this.used -= cost;
    this.tail = (this.tail + cost) % this.buffer.length;
    if (this.used === 0) this.head = this.tail = 0;
  }
}
