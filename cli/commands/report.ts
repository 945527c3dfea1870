// `georep report [--contract c] [--format text|json|md|html] [--out file]`: the readiness report
// (verifier/report/): per contract and site, the newest snapshot verified restorable against the
// RPO, the last drill against the RTO, copies and placement in force, open findings, and a verdict
// with its reasons. Only reads the catalog.
//
// Exit status, for a scheduler: 0 every contract meets its promise; 3 some contract is at risk
// (degraded, none broken: raise a ticket); 1 some contract is breached (a promise is broken now:
// page someone); 2 bad usage (an unknown contract, a folder --out cannot write to).
import type { CommandModule } from 'yargs';
import { buildReport, type ReadinessReport } from '../../verifier/report/model.ts';
import { renderHtml } from '../../verifier/report/render-html.ts';
import { renderJson } from '../../verifier/report/render-json.ts';
import { renderMarkdown } from '../../verifier/report/render-md.ts';
import { renderText } from '../../verifier/report/render-text.ts';
import type { Verdict } from '../../verifier/report/verdict.ts';
import { withCatalog } from '../catalog-session.ts';
import { print, type CliContext } from '../context.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL } from '../exit-codes.ts';
import { knownSites } from '../known-sites.ts';
import { writeFileAtomic } from '../write-atomic.ts';

const FORMATS = ['text', 'json', 'md', 'html'] as const;
type Format = (typeof FORMATS)[number];

interface Args {
  contract?: string;
  format?: Format;
  out?: string;
  json: boolean;
}

const RENDER: Record<Format, (r: ReadinessReport) => string> = {
  text: renderText,
  json: renderJson,
  md: renderMarkdown,
  html: renderHtml,
};

export const REPORT_EXIT: Record<Verdict, number> = { meets: EXIT_OK, 'at risk': EXIT_PARTIAL, breached: EXIT_FAILURE };

export function reportCommand(ctx: CliContext): CommandModule<object, Args> {
  return {
    command: 'report',
    describe: 'readiness per contract and site: verified RPO age, drills against the RTO, copies, findings, verdicts',
    builder: (y) =>
      y
        .option('contract', { type: 'string', describe: 'only this contract' })
        .option('format', { choices: FORMATS, describe: 'text (default), json, md or html (one self-contained file)' })
        .option('out', { type: 'string', describe: 'write to this file (atomically) instead of stdout' })
        .option('json', { type: 'boolean', default: false, describe: 'the same as --format json' }),
    handler: async (args) => {
      const format: Format = args.format ?? (args.json ? 'json' : 'text');
      const report = await withCatalog(ctx, async (db) =>
        buildReport(db, { ...(args.contract === undefined ? {} : { contract: args.contract }), sites: await knownSites(db) }),
      );
      const text = RENDER[format](report);
      if (args.out === undefined) ctx.stdout.write(text);
      else {
        await writeFileAtomic(args.out, text);
        print(ctx, `${args.out}: ${report.verdict} (${report.contracts.map((c) => `${c.contract} ${c.verdict}`).join(', ') || 'no contracts'})`);
      }
      ctx.exitCode = REPORT_EXIT[report.verdict];
    },
  };
}
