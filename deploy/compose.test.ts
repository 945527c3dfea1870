// deploy/compose/compose.yaml, checked without Docker: it parses (anchors and merge keys
// included), has its services, declares every secret and volume it uses, keeps secrets out of
// the file and out of argv, gives each daemon its own GEOREP_HOME, and every georep command line
// it runs (the daemons' commands, the setup script over ./sites and ./contracts) is accepted by
// the CLI. The contracts are valid and placeable on the sites the setup registers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../cli/duration.ts';
import { checkContract } from './checks/contracts.ts';
import { checkGeorepArgv } from './checks/georep-argv.ts';
import { IMAGE_UID, existsInRepo, listenPort, readRepoFile, repoPath, shutdownTimeoutMs, yamlDocuments } from './checks/repo.ts';
import { checkSetupScript } from './checks/setup-script.ts';
import { credentialsRef, parseSitesFile } from './checks/sites-file.ts';

const DIR = 'deploy/compose';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
}

interface ComposeFile {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

const docs = yamlDocuments(repoPath(DIR, 'compose.yaml'));
const compose = docs[0] as ComposeFile;
const services = Object.entries(compose.services);
const georepServices = services.filter(([, s]) => s.image?.startsWith('georep:'));
const daemons = georepServices.filter(([, s]) => s.command?.[0] === 'daemon');

/** `source:target[:ro]` of a service's volumes. */
function mounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    const [source, target] = v.split(':');
    return { source: source!, target: target! };
  });
}

/** A path inside the container, mapped back to the host path of the bind mount that holds it. */
function hostPathOf(s: Service, inside: string): string | undefined {
  for (const m of mounts(s)) {
    if (!m.source.startsWith('.')) continue;
    if (inside === m.target || inside.startsWith(`${m.target}/`)) return path.join(DIR, m.source, inside.slice(m.target.length));
  }
  return undefined;
}

const setup = compose.services.setup!;
const sitesFile = hostPathOf(setup, setup.environment!.GEOREP_SITES_FILE!)!;
const contractsDir = hostPathOf(setup, setup.environment!.GEOREP_CONTRACTS_DIR!)!;
const sites = parseSitesFile(readRepoFile(sitesFile));
const contractFiles = readdirSync(repoPath(contractsDir)).filter((f) => f.endsWith('.yaml'));

describe('compose.yaml', () => {
  it('is one document with the catalog, three sites, the setup and two daemons', () => {
    expect(docs).toHaveLength(1);
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'site-a', 'site-b', 'site-c', 'buckets', 'setup']));
    expect(daemons.length).toBeGreaterThanOrEqual(2);
    for (const [name, s] of services) expect(s.image, `${name} has no image`).toBeTruthy();
    expect(compose.services.postgres!.image).toMatch(/^postgres:\d+/);
  });

  it('builds georep from the recipe in deploy/container', () => {
    for (const [name, s] of georepServices) {
      expect(s.build, name).toBeDefined();
      expect(existsInRepo(path.join(DIR, s.build!.context, s.build!.dockerfile)), `${name}: ${s.build!.dockerfile}`).toBe(true);
    }
  });

  it('declares every secret it uses, each with a file in secrets.example and made by make-secrets.sh', () => {
    const made = readRepoFile(DIR, 'make-secrets.sh');
    for (const [name, s] of services) {
      for (const secret of s.secrets ?? []) expect(compose.secrets[secret], `${name} uses undeclared secret ${secret}`).toBeDefined();
    }
    const used = new Set(services.flatMap(([, s]) => s.secrets ?? []));
    for (const [name, { file }] of Object.entries(compose.secrets)) {
      expect(used.has(name), `secret ${name} is declared but unused`).toBe(true);
      expect(file).toMatch(/^\.\/secrets\//);
      const base = path.basename(file);
      expect(existsInRepo(DIR, 'secrets.example', base), `secrets.example/${base}`).toBe(true);
      // make-secrets.sh names a file outright or through its per-site loop (site-$site-...).
      expect(made.includes(base) || made.includes(base.replace(/^site-[abc]-/, 'site-$site-')), `make-secrets.sh makes ${base}`).toBe(true);
    }
    expect(readRepoFile(DIR, '.gitignore')).toMatch(/^secrets\/$/m);
    expect(made).toContain(`chown ${IMAGE_UID}:${IMAGE_UID}`);
  });

  it('keeps secrets out of the file: *_FILE variables name mounted secrets, URLs hold no password', () => {
    for (const [name, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        expect(key, `${name}: ${key} would hold a secret in clear`).not.toMatch(/^(GEOREP_PASSWORD|GEOREP_NEW_PASSWORD|PGPASSWORD|POSTGRES_PASSWORD|MINIO_ROOT_PASSWORD)$|SECRET_ACCESS_KEY$/);
        if (/(PASSWORD|USER|SECRET|KEY)_FILE$|^PGPASSFILE$/.test(key)) {
          // MinIO reads MINIO_ROOT_*_FILE relative to /run/secrets.
          const secret = value.startsWith('/run/secrets/') ? value.slice('/run/secrets/'.length) : value;
          expect(s.secrets, `${name}: ${key}=${value} is not one of its secrets`).toContain(secret);
        }
        if (/^postgres(ql)?:\/\//.test(value)) expect(new URL(value).password, `${name}: ${key}`).toBe('');
      }
    }
  });

  it("writes a pgpass line that matches the catalog URL's host, port, database and user", () => {
    const url = new URL(setup.environment!.GEOREP_CATALOG_URL!);
    const fields = `${url.hostname}:${url.port}:${url.pathname.slice(1)}:${url.username}:`;
    expect(readRepoFile(DIR, 'secrets.example', 'pgpass')).toMatch(new RegExp(`^${fields}`));
    expect(readRepoFile(DIR, 'make-secrets.sh')).toContain(`"${fields}$db_password"`);
    const postgres = compose.services.postgres!.environment!;
    expect([postgres.POSTGRES_USER, postgres.POSTGRES_DB]).toEqual([url.username, url.pathname.slice(1)]);
  });

  it('declares its named volumes and has the folders it binds', () => {
    for (const [name, s] of services) {
      for (const m of mounts(s)) {
        if (m.source.startsWith('.')) expect(existsInRepo(DIR, m.source), `${name}: ${m.source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: volume ${m.source}`).toContain(m.source);
      }
    }
  });

  it('gives every daemon a GEOREP_HOME of its own', () => {
    const homes = daemons.map(([name, s]) => {
      const home = mounts(s).find((m) => m.target === '/var/lib/georep');
      expect(home, `${name} has no volume at GEOREP_HOME`).toBeDefined();
      return home!.source;
    });
    expect(new Set(homes).size).toBe(homes.length);
  });

  it("runs daemon command lines the CLI accepts, publishing --listen's port, stopped after the shutdown timeout", async () => {
    for (const [name, s] of daemons) {
      const verdict = await checkGeorepArgv(s.command!);
      expect(verdict.accepted, `${name}: ${s.command!.join(' ')}: ${verdict.stderr}`).toBe(true);
      const port = listenPort(s.command!);
      expect(s.command![s.command!.indexOf('--listen') + 1]).toMatch(/^0\.0\.0\.0:/);
      expect(s.ports!.map((p) => Number(p.split(':').at(-1)))).toContain(port);
      expect(parseDuration(s.stop_grace_period!, 'stop_grace_period')).toBeGreaterThan(shutdownTimeoutMs(s.command!));
      expect(s.depends_on?.setup?.condition).toBe('service_completed_successfully');
    }
  });

  it("runs a setup script whose every georep line the CLI accepts", async () => {
    expect(setup.entrypoint).toEqual(['georep-setup']);
    const files = contractFiles.map((f) => repoPath(contractsDir, f));
    const checked = await checkSetupScript(sites, files);
    expect(checked.map((c) => c.argv.slice(0, 2).join(' '))).toEqual(['site show', 'site add', 'snapshots --site', 'init --site', 'policy apply']);
    for (const c of checked) expect(c.verdict.accepted, `line ${c.line}: ${c.argv.join(' ')}: ${c.verdict.stderr}`).toBe(true);
  });

  it('registers sites the CLI accepts, on MinIO services, with credentials every georep service has', async () => {
    expect(sites.map((s) => s.name)).toEqual(['site-a', 'site-b', 'site-c']);
    for (const site of sites) {
      const verdict = await checkGeorepArgv(['site', 'add', site.name, site.url, ...site.options]);
      expect(verdict.accepted, `${sitesFile}:${site.line}: ${verdict.stderr}`).toBe(true);
      const endpoint = new URL(new URLSearchParams(site.url.slice(site.url.indexOf('?') + 1)).get('endpoint')!);
      expect(compose.services[endpoint.hostname]?.image, `${site.name}: ${endpoint.hostname} is no MinIO service`).toMatch(/minio/);
      const ref = credentialsRef(site)!;
      expect(ref).toMatch(/^file:\/run\/secrets\//);
      for (const [name, s] of georepServices) expect(s.secrets, `${name} lacks ${ref}`).toContain(ref.slice('file:/run/secrets/'.length));
      // make-buckets.sh creates georep-<x> at site-<x>.
      expect(site.url).toMatch(new RegExp(`^s3://georep-${site.name.slice(-1)}\\?`));
    }
  });

  it('ships contracts that are valid, placeable on those sites, and whose folders every daemon mounts', () => {
    expect(contractFiles.length).toBeGreaterThan(0);
    for (const f of contractFiles) {
      const file = path.join(contractsDir, f);
      const { contract, problems } = checkContract(readFileSync(repoPath(file), 'utf8'), file, sites);
      expect(problems).toEqual([]);
      const source = contract!.dataset.source;
      if (source.type !== 'directory') continue;
      for (const [name, s] of daemons) {
        const host = hostPathOf(s, source.path);
        expect(host, `${name} does not mount ${source.path}`).toBeDefined();
        expect(statSync(repoPath(host!)).isDirectory()).toBe(true);
      }
    }
  });
});
