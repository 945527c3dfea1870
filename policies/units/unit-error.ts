// The one error the unit parsers throw. policies/ imports nothing of ours (not even core/), so it
// has its own small error; callers that need a GeorepError wrap it at their edge.

/** A value that is not a well-formed quantity; `expected` says which forms are accepted. */
export class UnitError extends Error {
  readonly expected: string;

  constructor(expected: string, got: string) {
    super(`expected ${expected}, got ${JSON.stringify(got)}`);
    this.name = 'UnitError';
    this.expected = expected;
  }
}
