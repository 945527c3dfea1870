// The site's clock as seen in HTTP Date headers. The SDK parses no Date header for us, so a
// middleware reads it off the raw response, innermost in the deserialize step (before any
// parsing, for error responses too), and pairs it with our clock before and after the call.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../../core/clock.ts';

export interface SkewSample {
  /** Server time minus our time at the middle of the round trip, ms. */
  skewMs: number;
  roundTripMs: number;
}

export class SkewRecorder {
  readonly samples: SkewSample[] = [];
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  attach(client: S3Client): void {
    client.middlewareStack.add(
      (next) => async (args) => {
        const before = this.clock.nowMs();
        const result = await next(args);
        this.record(before, this.clock.nowMs(), headerOf(result.response, 'date'));
        return result;
      },
      { step: 'deserialize', priority: 'low', name: 'georepClockSkew' },
    );
  }

  /** Median skew of the samples, or undefined without any. */
  estimateMs(): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = this.samples.map((s) => s.skewMs).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  private record(before: number, after: number, date: string | undefined): void {
    if (date === undefined) return;
    const server = Date.parse(date);
    if (Number.isNaN(server)) return;
    // Date has whole seconds and is truncated: the server's true time is up to 1 s later.
    this.samples.push({ skewMs: Math.round(server + 500 - (before + after) / 2), roundTripMs: after - before });
  }
}

function headerOf(response: unknown, name: string): string | undefined {
  if (typeof response !== 'object' || response === null || !('headers' in response)) return undefined;
  const headers = (response as { headers: unknown }).headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name && typeof v === 'string') return v;
  }
  return undefined;
}
