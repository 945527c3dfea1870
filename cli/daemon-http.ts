// The daemon's HTTP face: /healthz (200 while the loop has completed a round recently and the
// catalog answers; 503 otherwise), /metrics (Prometheus text), /status and /status.json (the
// readiness report, as `georep report --format html|json` prints it, at most STATUS_TTL_MS old).
// Bound to localhost unless the operator names an address: all of it names contracts and sites.
import type { AddressInfo } from 'node:net';
import type { CatalogDb } from '../catalog/db.ts';
import type { Clock } from '../core/clock.ts';
import { databaseNow } from '../catalog/queries/clock.ts';
import { UsageError } from '../core/errors.ts';
import { http } from '../core/node-http.ts';
import type { Logger } from '../core/log.ts';
import type { Daemon } from '../replicator/daemon/daemon.ts';
import type { DaemonMetrics } from '../replicator/daemon/metrics.ts';
import { CSP, renderHtml } from '../verifier/report/render-html.ts';
import { renderJson } from '../verifier/report/render-json.ts';
import { statusReports } from './daemon-status.ts';

/** How long a readiness report is served again before the next request makes a new one. */
export const STATUS_TTL_MS = 10_000;

/** `:9464` (localhost), `0.0.0.0:9464`, `[::1]:9464`; port 0 picks a free one. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen ${JSON.stringify(text)} is not [host]:port`, { hint: 'e.g. --listen :9464 or --listen 0.0.0.0:9464' });
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export interface DaemonHttp {
  url: string;
  close(): Promise<void>;
}

/** staleMs: how long after the last round the loop counts as stuck. */
export async function serveDaemonHttp(
  listen: { host: string; port: number },
  parts: { db: CatalogDb; daemon: Daemon; metrics: DaemonMetrics; staleMs: number; logger: Logger; clock: Clock; statusTtlMs?: number },
): Promise<DaemonHttp> {
  const status = statusReports(parts.db, parts.clock, parts.statusTtlMs ?? STATUS_TTL_MS);
  const server = http.createServer((req, res) => {
    const reply = (code: number, type: string, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(code, { 'content-type': type, ...headers }).end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      if (path === '/healthz') {
        const now = await databaseNow(parts.db);
        const last = parts.daemon.lastRoundAt;
        const fresh = last !== null && now.getTime() - last.getTime() <= parts.staleMs;
        reply(fresh ? 200 : 503, 'text/plain', fresh ? 'ok\n' : 'the daemon loop has not completed a round recently\n');
      } else if (path === '/metrics') {
        reply(200, parts.metrics.registry.contentType, await parts.metrics.scrape());
      } else if (path === '/status' || path === '/status.html') {
        const html = renderHtml(await status.get());
        reply(200, 'text/html; charset=utf-8', html, { 'content-security-policy': CSP, 'cache-control': 'no-cache' });
      } else if (path === '/status.json') {
        reply(200, 'application/json', renderJson(await status.get()), { 'cache-control': 'no-cache' });
      } else {
        reply(404, 'text/plain', 'not found: try /healthz, /metrics, /status or /status.json\n');
      }
    })().catch((err: unknown) => {
      parts.logger.warn({ err, path }, 'http request failed');
      if (!res.headersSent) reply(503, 'text/plain', 'the catalog did not answer (the daemon log says why)\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a scraper's keep-alive must not hold the shutdown
      }),
  };
}
