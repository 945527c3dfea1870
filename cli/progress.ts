// A one-line progress display on stderr when it is a terminal: counts, bytes, speed and, when a
// total is known, the time left. Nothing at all otherwise, so logs and pipes stay clean.
import type { Writable } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import { formatBytes, formatDuration } from './format.ts';

export class Progress {
  private readonly out: Writable & { isTTY?: boolean };
  private readonly clock: Clock;
  private readonly started: number;
  private lastDraw = 0;
  private drawn = false;

  constructor(out: Writable, clock: Clock) {
    this.out = out;
    this.clock = clock;
    this.started = clock.nowMs();
  }

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  /** Redraws at most ten times a second. */
  update(label: string, bytes: number, totalBytes?: number): void {
    if (!this.enabled) return;
    const now = this.clock.nowMs();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const speed = bytes / seconds;
    let line = `${label}  ${formatBytes(bytes)}`;
    if (totalBytes !== undefined && totalBytes > 0) {
      const pct = Math.min(100, (100 * bytes) / totalBytes);
      const left = speed > 0 ? Math.max(0, (totalBytes - bytes) / speed) : undefined;
      line += ` / ${formatBytes(totalBytes)} (${pct.toFixed(0)}%)`;
      if (left !== undefined) line += `  ETA ${formatDuration(left)}`;
    }
    line += `  ${formatBytes(speed)}/s  ${formatDuration(seconds)}`;
    this.out.write(`\r\x1b[K${line.slice(0, 160)}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
