// The container recipe (deploy/container/Dockerfile) is checked without building it (no Docker
// engine here): its base is a Node LTS >= 24, every file it copies from the context exists and is
// let through by its .dockerignore, the entry point and the links it makes point at copied files,
// npm scripts it runs exist, and its default command, health check and memory settings agree
// with the CLI and the launcher.
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkGeorepArgv } from './checks/georep-argv.ts';
import { copyArgs, execForm, parseDockerfile, type Instruction } from './checks/dockerfile.ts';
import { IMAGE_UID, existsInRepo, launcherMallocTunables, listenPort, readRepoFile, repoPath } from './checks/repo.ts';

const DOCKERFILE = 'deploy/container/Dockerfile';
const instructions = parseDockerfile(readRepoFile(DOCKERFILE));

interface Stage {
  name: string | undefined;
  from: string;
  body: Instruction[];
}

function stages(): Stage[] {
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (m === null) throw new Error(`${DOCKERFILE}:${ins.line}: FROM ${ins.args}`);
      out.push({ from: m[1]!, name: m[2], body: [] });
    } else {
      out.at(-1)?.body.push(ins);
    }
  }
  return out;
}

/** ARGs before the first FROM, with their defaults: what FROM lines may use. */
function globalArgs(): Map<string, string> {
  const args = new Map<string, string>();
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') break;
    if (ins.keyword === 'ARG') {
      const [name, value = ''] = ins.args.split('=', 2);
      args.set(name!, value);
    }
  }
  return args;
}

/** .dockerignore semantics, enough for ours: the last matching pattern decides; `!` lets through. */
function allowedByIgnore(file: string): boolean {
  const patterns = readRepoFile('deploy/container/Dockerfile.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  let allowed = true;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    const glob = negated ? p.slice(1) : p;
    const source = glob
      .split('/')
      .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/')
      .replace(/\.\*\//g, '(?:.*/)?');
    if (new RegExp(`^${source}$`).test(file)) allowed = negated;
  }
  return allowed;
}

/** In the final stage: image path -> repository path, for what was copied from the context. */
function runtimeCopies(): { image: string; repo: string }[] {
  const runtime = stages().at(-1)!;
  let workdir = '/';
  const copies: { image: string; repo: string }[] = [];
  for (const ins of runtime.body) {
    if (ins.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, ins.args);
    if (ins.keyword !== 'COPY') continue;
    const { flags, sources, dest } = copyArgs(ins.args);
    if (flags.from !== undefined || sources.length !== 1) continue;
    // `COPY file dir/` puts the file in the folder; `COPY dir name` makes the folder `name`.
    const into = dest.endsWith('/') || dest === '.';
    const image = path.posix.resolve(workdir, dest, into ? path.posix.basename(sources[0]!) : '.');
    copies.push({ image, repo: sources[0]! });
  }
  return copies;
}

function fromImage(imagePath: string): string | undefined {
  for (const c of runtimeCopies()) {
    if (imagePath === c.image) return c.repo;
    if (imagePath.startsWith(`${c.image}/`)) return path.posix.join(c.repo, imagePath.slice(c.image.length + 1));
  }
  return undefined;
}

function finalInstruction(keyword: string): Instruction {
  const found = stages().at(-1)!.body.filter((i) => i.keyword === keyword).at(-1);
  if (found === undefined) throw new Error(`the runtime stage has no ${keyword}`);
  return found;
}

describe('container recipe', () => {
  it('is multi-stage on a Node LTS of 24 or later', () => {
    const all = stages();
    expect(all.length).toBeGreaterThanOrEqual(2);
    const args = globalArgs();
    const stageNames = new Set(all.map((s) => s.name));
    for (const s of all) {
      if (stageNames.has(s.from)) continue;
      const image = s.from.replace(/^\$\{?(\w+)\}?$/, (_m, name: string) => args.get(name) ?? `<ARG ${name} without default>`);
      const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)[-.@\w:]*$/.exec(image);
      expect(m, `FROM ${s.from} (${image}) is not a node image with a major version`).not.toBeNull();
      const major = Number(m![1]);
      // Even majors become LTS; odd ones never do.
      expect(major % 2, `Node ${major} is never an LTS`).toBe(0);
      expect(major).toBeGreaterThanOrEqual(24);
    }
  });

  it('copies only files that exist and that the .dockerignore lets through', () => {
    const names = new Set(stages().map((s) => s.name));
    let copied = 0;
    for (const ins of instructions.filter((i) => i.keyword === 'COPY')) {
      const { flags, sources } = copyArgs(ins.args);
      if (flags.from !== undefined) {
        expect(names.has(flags.from), `${DOCKERFILE}:${ins.line}: no stage ${flags.from}`).toBe(true);
        continue;
      }
      for (const source of sources) {
        expect(existsInRepo(source), `${DOCKERFILE}:${ins.line}: ${source} does not exist`).toBe(true);
        const probe = statSync(repoPath(source)).isDirectory() ? `${source}/x.ts` : source;
        expect(allowedByIgnore(probe), `${DOCKERFILE}:${ins.line}: ${source} is excluded by the .dockerignore`).toBe(true);
        copied++;
      }
    }
    expect(copied).toBeGreaterThan(5);
  });

  it('copies every source folder the build compiles', () => {
    const build = JSON.parse(readRepoFile('tsconfig.build.json')) as { include: string[] };
    const sources = instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => copyArgs(i.args).sources);
    for (const dir of build.include) expect(sources, `tsconfig.build.json compiles ${dir}/`).toContain(dir);
    expect(allowedByIgnore('core/clock.test.ts')).toBe(false);
  });

  it('runs npm scripts that exist', () => {
    const scripts = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts;
    const runs = instructions.filter((i) => i.keyword === 'RUN').flatMap((i) => [...i.args.matchAll(/npm run (\S+)/g)].map((m) => m[1]!));
    expect(runs.length).toBeGreaterThan(0);
    for (const name of runs) expect(Object.keys(scripts), `npm run ${name}`).toContain(name);
  });

  it('runs as an unprivileged numeric user', () => {
    expect(finalInstruction('USER').args).toBe(`${IMAGE_UID}:${IMAGE_UID}`);
  });

  it('enters through bin/georep.js, and links georep and georep-setup to copied files', () => {
    const entry = execForm(finalInstruction('ENTRYPOINT').args);
    expect(entry).toHaveLength(1);
    expect(fromImage(entry![0]!)).toBe('bin/georep.js');
    expect(existsInRepo('bin/georep.js')).toBe(true);
    const link = /ln -s (\S+) \/usr\/local\/bin\/georep\b/.exec(instructions.map((i) => i.args).join('\n'));
    expect(link).not.toBeNull();
    expect(fromImage(link![1]!)).toBe('bin/georep.js');
    const setup = fromImage('/usr/local/bin/georep-setup');
    expect(setup).toBe('deploy/scripts/georep-setup.sh');
    // COPY keeps the mode: the script must be executable in the repository.
    expect(statSync(repoPath(setup!)).mode & 0o111).not.toBe(0);
  });

  it('has a default command the CLI accepts, and a health check on its --listen port', async () => {
    const cmd = execForm(finalInstruction('CMD').args)!;
    const verdict = await checkGeorepArgv(cmd);
    expect(verdict.accepted, verdict.stderr).toBe(true);
    const port = listenPort(cmd);
    expect(port).toBeGreaterThan(0);
    const health = finalInstruction('HEALTHCHECK').args;
    expect(health).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(finalInstruction('EXPOSE').args).toBe(String(port));
  });

  it("gives the daemon the launcher's memory settings", () => {
    const env = instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toContain(`GLIBC_TUNABLES=${launcherMallocTunables()}`);
    expect(env).toContain('NODE_OPTIONS=--max-semi-space-size=1');
  });
});
