// The snapshot/restore suite, defined once and run against every kind of site (like
// sites/conformance/suite.ts for the Site contract): roundtrip-file.test.ts and
// roundtrip-ceph.test.ts call defineRoundTripSuite() with a way to make a fresh site.
//
// Everything goes through the CLI as an operator runs it, except where a case must inspect the
// repository (which blobs a file uses) or write to it with the key (forged trees).
import { afterAll, beforeAll, describe } from 'vitest';
import type { GeneratedTree } from '../fixtures/tree-gen.ts';
import { defineChangeCases } from './cases-changes.ts';
import { defineCommandCases } from './cases-commands.ts';
import { defineHostileCases } from './cases-hostile.ts';
import { defineProblemCases } from './cases-problems.ts';
import { defineRoundTripCases } from './cases-roundtrip.ts';
import { defineTamperCases } from './cases-tamper.ts';
import { newRepository, scratch, type Georep, type MakeSite, type SnapshotJson } from './harness.ts';
import { richTree } from './trees.ts';

/** One rich tree snapshotted once into one repository, for the cases that only read them. */
export interface SharedRepository {
  georep: Georep;
  src: string;
  tree: GeneratedTree;
  snap: SnapshotJson;
}

export interface SuiteContext {
  makeSite: MakeSite;
  /** A fresh path (not yet created) in the suite's scratch folder. */
  path(name: string): string;
  /**
   * The shared repository, made on first use. Cases may add snapshots of other folders to it and
   * restore it anywhere, but must leave its source folder and its first snapshot as they are.
   */
  shared(): Promise<SharedRepository>;
}

export function defineRoundTripSuite(name: string, makeSite: MakeSite): void {
  describe(`snapshot and restore, ${name} site`, () => {
    let area: Awaited<ReturnType<typeof scratch>> | undefined;
    let shared: Promise<SharedRepository> | undefined;
    beforeAll(async () => {
      area = await scratch();
    });
    afterAll(async () => {
      await area?.remove();
    });
    const ctx: SuiteContext = {
      makeSite,
      path: (n) => {
        if (area === undefined) throw new Error('scratch folder not made yet');
        return area.sub(n);
      },
      shared: () =>
        (shared ??= (async () => {
          const src = ctx.path('shared-src');
          const tree = await richTree(src);
          const georep = await newRepository(makeSite, ctx.path('shared-home'));
          return { georep, src, tree, snap: await georep.snapshot(src) };
        })()),
    };
    defineRoundTripCases(ctx);
    defineChangeCases(ctx);
    defineTamperCases(ctx);
    defineHostileCases(ctx);
    defineProblemCases(ctx);
    defineCommandCases(ctx);
  });
}
