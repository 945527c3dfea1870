// Snapshots churn through large short-lived buffers (chunks, compressed and sealed copies: several
// times the dataset), while allocating few JavaScript objects. V8 then collects rarely, and when
// the external memory finally forces it, with a full collection: memory balloons and time goes
// to big pauses. A young-generation collection every few megabytes frees those buffers early and
// cheaply (measured here: peak memory down, and faster overall). Node exposes gc() only behind a
// V8 flag; setting it at run time and fetching the function is the documented escape hatch.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor' | 'major' }) => void;

let gc: Gc | undefined;
try {
  setFlagsFromString('--expose-gc');
  gc = runInNewContext('gc') as Gc;
} catch {
  gc = undefined; // without it, V8's own schedule applies: slower, never wrong
}

/**
 * A full collection now: after a large, one-off allocation that is garbage at once (argon2id's
 * 64 MiB of working memory), so it does not sit in memory for the rest of a long run.
 */
export function collectNow(): void {
  gc?.({ type: 'major' });
}

/** Counts bytes of short-lived buffers and runs a young-generation collection every `every` bytes. */
export class GcHint {
  private pending = 0;
  private readonly every: number;

  constructor(every = 8 * 1024 * 1024) {
    this.every = every;
  }

  allocated(bytes: number): void {
    this.pending += bytes;
    if (this.pending >= this.every) {
      this.pending = 0;
      gc?.({ type: 'minor' });
    }
  }
}
