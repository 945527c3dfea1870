// Reading a site during a scrub without ever mistaking "could not read" for "the data is wrong".
// Every site operation goes through attempt(): a NotFoundError is an answer (the object is not
// there); any other SiteError (timeouts and 5xx after the stack's retries, refused connections,
// access denied) is recorded as an `unreadable` finding for that key and is never evidence of
// damage. After `maxConsecutive` unreadable answers in a row the site is given up on (SiteGaveUp),
// so a dead site costs a few timed-out requests, not one per object.
import { describeError } from '../../core/errors.ts';
import { NotFoundError, SiteError } from '../../sites/errors.ts';
import type { Finding } from './types.ts';

export type Attempt<T> = { ok: true; value: T } | { ok: false; notFound: boolean };

/** Thrown out of a site's scrub when the site stopped answering; caught by the scrub of that site. */
export class SiteGaveUp extends Error {
  readonly site: string;
  readonly failures: number;
  constructor(site: string, failures: number) {
    super(`site ${site} did not answer ${failures} requests in a row: not verified further in this run`);
    this.site = site;
    this.failures = failures;
  }
}

export class ScrubGuard {
  private consecutive = 0;
  private gaveUp: SiteGaveUp | undefined;

  private readonly site: string;
  private readonly findings: Finding[];
  private readonly maxConsecutive: number;

  constructor(site: string, findings: Finding[], maxConsecutive = 3) {
    this.site = site;
    this.findings = findings;
    this.maxConsecutive = maxConsecutive;
  }

  async attempt<T>(key: string, op: () => Promise<T>): Promise<Attempt<T>> {
    // Concurrent reads of a site given up on stop here, without another request to it.
    if (this.gaveUp !== undefined) throw this.gaveUp;
    try {
      const value = await op();
      this.consecutive = 0;
      return { ok: true, value };
    } catch (err) {
      if (err instanceof NotFoundError) {
        this.consecutive = 0;
        return { ok: false, notFound: true };
      }
      if (!(err instanceof SiteError)) throw err;
      this.findings.push({ key, kind: 'unreadable', detail: `the site did not answer: ${describeError(err)}` });
      if (++this.consecutive >= this.maxConsecutive) throw (this.gaveUp = new SiteGaveUp(this.site, this.consecutive));
      return { ok: false, notFound: false };
    }
  }
}
