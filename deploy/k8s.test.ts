// deploy/k8s, checked without a cluster: every manifest parses (several documents a file), the
// kustomization lists files that exist and never the example Secret, the Deployment runs several
// daemons with a command line the CLI accepts, probes on its --listen port, a grace period longer
// than its shutdown timeout and resources; every ConfigMap and Secret key it or the Job needs
// exists; the setup Job's sites and contracts are accepted and placeable.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkContract } from './checks/contracts.ts';
import { checkGeorepArgv } from './checks/georep-argv.ts';
import { IMAGE_UID, existsInRepo, listenPort, repoPath, shutdownTimeoutMs, yamlDocuments } from './checks/repo.ts';
import { checkSetupScript } from './checks/setup-script.ts';
import { credentialsRef, parseSitesFile } from './checks/sites-file.ts';

const DIR = 'deploy/k8s';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean };
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string }; emptyDir?: unknown }[];
}

const files = readdirSync(repoPath(DIR)).filter((f) => f.endsWith('.yaml'));
const byFile = new Map(files.map((f) => [f, yamlDocuments(repoPath(DIR, f)).filter((d) => d !== null) as Manifest[]]));
const kustomization = byFile.get('kustomization.yaml')![0] as unknown as { resources: string[]; images: { name: string }[] };
const applied = kustomization.resources.flatMap((f) => byFile.get(f) ?? []);
const secretExample = byFile.get('secret.example.yaml')!;

function find(kind: string, name?: string): Manifest {
  const found = applied.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ''} among the kustomization's resources`);
  return found;
}

function podSpec(m: Manifest): PodSpec {
  return (m.spec as { template: { spec: PodSpec } }).template.spec;
}

const deployment = find('Deployment');
const daemonPod = podSpec(deployment);
const daemon = daemonPod.containers[0]!;
const job = find('Job');
const jobPod = podSpec(job);
const envConfig = find('ConfigMap', 'georep-env').data!;

/** The ConfigMap key a mounted path names: mountPath/<key> of a configMap volume. */
function configMapFile(pod: PodSpec, container: Container, file: string): { map: Manifest; key: string } {
  for (const mount of container.volumeMounts ?? []) {
    if (!file.startsWith(`${mount.mountPath}/`)) continue;
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.configMap === undefined) continue;
    return { map: find('ConfigMap', volume.configMap.name), key: file.slice(mount.mountPath.length + 1) };
  }
  throw new Error(`${file} is on no ConfigMap volume of ${container.name}`);
}

function contractsMap(): Manifest {
  const dir = envConfig.GEOREP_CONTRACTS_DIR!;
  const mount = jobPod.containers[0]!.volumeMounts!.find((m) => m.mountPath === dir);
  expect(mount, `the Job mounts nothing at ${dir}`).toBeDefined();
  return find('ConfigMap', jobPod.volumes!.find((v) => v.name === mount!.name)!.configMap!.name);
}

const sitesEntry = configMapFile(jobPod, jobPod.containers[0]!, envConfig.GEOREP_SITES_FILE!);
const sites = parseSitesFile(sitesEntry.map.data![sitesEntry.key]!);

describe('Kubernetes manifests', () => {
  it('parse, each document a named object, and the kustomization names files that exist', () => {
    expect(files.length).toBeGreaterThan(4);
    for (const [file, docs] of byFile) {
      expect(docs.length, file).toBeGreaterThan(0);
      for (const d of docs) {
        expect(d.apiVersion, file).toBeTruthy();
        expect(d.kind, file).toBeTruthy();
        if (d.kind !== 'Kustomization') expect(d.metadata?.name, file).toBeTruthy();
      }
    }
    for (const r of kustomization.resources) expect(existsInRepo(DIR, r), r).toBe(true);
    // Real values never come from this repository.
    expect(kustomization.resources).not.toContain('secret.example.yaml');
    expect(kustomization.images.map((i) => i.name)).toContain(daemon.image);
  });

  it('runs several daemons with a command line the CLI accepts', async () => {
    expect((deployment.spec as { replicas: number }).replicas).toBeGreaterThanOrEqual(2);
    const verdict = await checkGeorepArgv(daemon.args!);
    expect(verdict.accepted, `${daemon.args!.join(' ')}: ${verdict.stderr}`).toBe(true);
    expect(daemon.command).toBeUndefined(); // the image's entry point, bin/georep.js
  });

  it("probes /healthz on the port --listen binds, on every interface", () => {
    const port = listenPort(daemon.args!);
    expect(daemon.args![daemon.args!.indexOf('--listen') + 1]).toBe(`0.0.0.0:${port}`);
    for (const probe of [daemon.readinessProbe, daemon.livenessProbe]) {
      expect(probe?.httpGet.path).toBe('/healthz');
      const named = probe!.httpGet.port;
      const number = typeof named === 'number' ? named : daemon.ports!.find((p) => p.name === named)?.containerPort;
      expect(number).toBe(port);
    }
    const service = find('Service');
    const spec = service.spec as { selector: Record<string, string>; ports: { targetPort: string }[] };
    expect(deployment.spec!.template).toMatchObject({ metadata: { labels: spec.selector } });
    expect(daemon.ports!.map((p) => p.name)).toContain(spec.ports[0]!.targetPort);
  });

  it('gives the daemons longer than their shutdown timeout to stop, and resources', () => {
    expect(daemonPod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(shutdownTimeoutMs(daemon.args!));
    expect(daemon.resources?.requests?.cpu).toBeTruthy();
    expect(daemon.resources?.requests?.memory).toBeTruthy();
    expect(daemon.resources?.limits?.memory).toBeTruthy();
  });

  it("runs as the image's user, with a GEOREP_HOME of each pod's own", () => {
    for (const pod of [daemonPod, jobPod]) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: IMAGE_UID });
      const home = pod.containers[0]!.volumeMounts!.find((m) => m.mountPath === '/var/lib/georep');
      expect(pod.volumes!.find((v) => v.name === home?.name)?.emptyDir).toBeDefined();
    }
  });

  it('reads ConfigMaps that exist and the Secret of secret.example.yaml, with placeholders only', () => {
    const secret = secretExample[0]!;
    expect(secret.kind).toBe('Secret');
    for (const value of Object.values(secret.stringData!)) expect(value).toContain('CHANGE-ME');
    for (const c of [daemon, jobPod.containers[0]!]) {
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) find('ConfigMap', from.configMapRef.name);
        if (from.secretRef) expect(from.secretRef.name).toBe(secret.metadata.name);
      }
    }
    for (const pod of [daemonPod, jobPod]) for (const v of pod.volumes ?? []) if (v.configMap) find('ConfigMap', v.configMap.name);
    // The catalog URL is not a secret because it holds no password: PGPASSWORD does.
    expect(new URL(envConfig.GEOREP_CATALOG_URL!).password).toBe('');
    expect(Object.keys(secret.stringData!)).toEqual(expect.arrayContaining(['GEOREP_PASSWORD', 'PGPASSWORD']));
  });

  it("sets up with georep-setup, whose georep lines the CLI accepts over the sites and contracts ConfigMaps", async () => {
    expect(jobPod.containers[0]!.command).toEqual(['georep-setup']);
    const contracts = Object.keys(contractsMap().data!).map((k) => path.posix.join(envConfig.GEOREP_CONTRACTS_DIR!, k));
    const checked = await checkSetupScript(sites, contracts);
    expect(checked.length).toBe(5);
    // policy apply is given files that only exist in the pod: the catalog sentinel stops it first.
    for (const c of checked) expect(c.verdict.accepted, `line ${c.line}: ${c.argv.join(' ')}: ${c.verdict.stderr}`).toBe(true);
  });

  it('registers sites the CLI accepts, whose env: credentials the Secret defines', async () => {
    const keys = Object.keys(secretExample[0]!.stringData!);
    expect(sites.length).toBeGreaterThanOrEqual(3);
    for (const site of sites) {
      const verdict = await checkGeorepArgv(['site', 'add', site.name, site.url, ...site.options]);
      expect(verdict.accepted, `${site.name}: ${verdict.stderr}`).toBe(true);
      const ref = credentialsRef(site)!;
      expect(ref).toMatch(/^env:/);
      const name = ref.slice(4);
      expect(keys).toEqual(expect.arrayContaining([`${name}_ACCESS_KEY_ID`, `${name}_SECRET_ACCESS_KEY`]));
    }
  });

  it('holds contracts that are valid and placeable on those sites, their env: references in the Secret', () => {
    const keys = Object.keys(secretExample[0]!.stringData!);
    const data = contractsMap().data!;
    expect(Object.keys(data).length).toBeGreaterThan(0);
    for (const [key, text] of Object.entries(data)) {
      expect(key).toMatch(/\.yaml$/);
      const { contract, problems } = checkContract(text, `${DIR}/configmap.yaml: ${key}`, sites);
      expect(problems).toEqual([]);
      const source = contract!.dataset.source;
      const refs = [source.type === 'postgres' ? source.url : source.type === 's3' ? source.credentials : null];
      for (const ref of refs) if (ref?.startsWith('env:')) expect(keys, `${key}: ${ref}`).toContain(ref.slice(4));
    }
  });

  it('keeps one daemon through voluntary disruptions', () => {
    const pdb = find('PodDisruptionBudget');
    expect((pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).toEqual(
      (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
    );
  });
});
