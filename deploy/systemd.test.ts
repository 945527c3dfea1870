// deploy/systemd/georep-daemon.service, checked as an INI file: the keys a service needs, the
// hardening it promises, a stop timeout longer than the daemon's shutdown timeout, secrets as
// credentials that match the variables pointing at them, and an ExecStart the CLI accepts.
import { describe, expect, it } from 'vitest';
import { checkGeorepArgv } from './checks/georep-argv.ts';
import { iniValue, parseIni } from './checks/ini.ts';
import { existsInRepo, launcherMallocTunables, readRepoFile, shutdownTimeoutMs } from './checks/repo.ts';

const DIR = 'deploy/systemd';
const unit = parseIni(readRepoFile(DIR, 'georep-daemon.service'));
const service = (key: string): string | undefined => iniValue(unit, 'Service', key);
const environment = new Map(
  (unit.get('Service')?.get('Environment') ?? []).map((e) => {
    const eq = e.indexOf('=');
    return [e.slice(0, eq), e.slice(eq + 1)] as const;
  }),
);
const execStart = service('ExecStart')!.split(/\s+/);

describe('georep-daemon.service', () => {
  it('has the sections and keys of a service', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(iniValue(unit, 'Unit', 'Description')).toBeTruthy();
    expect(iniValue(unit, 'Unit', 'After')).toContain('network-online.target');
    expect(iniValue(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
    expect(service('Type')).toBe('exec');
    expect(service('Restart')).toBe('on-failure');
    expect(service('User')).toBe('georep');
    expect(readRepoFile(DIR, 'georep.sysusers.conf')).toMatch(/^u georep /m);
  });

  it('runs bin/georep.js daemon with a command line the CLI accepts', async () => {
    expect(execStart[0]).toBe('/opt/georep/bin/georep.js');
    expect(existsInRepo('bin/georep.js')).toBe(true);
    const verdict = await checkGeorepArgv(execStart.slice(1));
    expect(verdict.accepted, verdict.stderr).toBe(true);
    expect(execStart[1]).toBe('daemon');
  });

  it('stops with one SIGTERM and waits longer than the shutdown timeout', () => {
    expect(service('KillSignal')).toBe('SIGTERM');
    expect(service('KillMode')).toBe('mixed');
    expect(Number(service('TimeoutStopSec')) * 1000).toBeGreaterThan(shutdownTimeoutMs(execStart));
  });

  it('is hardened', () => {
    const want: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      CapabilityBoundingSet: '',
      SystemCallFilter: '@system-service',
      UMask: '0077',
    };
    for (const [key, value] of Object.entries(want)) expect(service(key), key).toBe(value);
    // V8 writes the machine code it runs: this one would kill the daemon.
    expect(service('MemoryDenyWriteExecute')).toBeUndefined();
  });

  it('reads the secrets from credentials the variables point at, and keeps its own home', () => {
    const credentials = new Set((unit.get('Service')?.get('LoadCredential') ?? []).map((c) => c.split(':')[0]));
    for (const variable of ['GEOREP_PASSWORD_FILE', 'PGPASSFILE']) {
      const m = /^%d\/(.+)$/.exec(environment.get(variable) ?? '');
      expect(m, `${variable} is not a credential (%d/...)`).not.toBeNull();
      expect(credentials.has(m![1]!), `${variable}: no LoadCredential=${m![1]}`).toBe(true);
    }
    expect(environment.get('GEOREP_HOME')).toBe(`%S/${service('StateDirectory')}`);
    expect(service('StateDirectoryMode')).toBe('0700');
  });

  it("gives the daemon the launcher's memory settings", () => {
    expect(environment.get('GLIBC_TUNABLES')).toBe(launcherMallocTunables());
    expect(environment.get('NODE_OPTIONS')).toBe('--max-semi-space-size=1');
  });

  it('comes with an environment file holding placeholders and a catalog URL without a password', () => {
    const env = new Map(
      readRepoFile(DIR, 'georep.env.example')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    expect(new URL(env.get('GEOREP_CATALOG_URL')!).password).toBe('');
    for (const [key, value] of env) if (/SECRET|PASSWORD|ACCESS_KEY/.test(key)) expect(value, key).toBe('CHANGE-ME');
    expect(service('EnvironmentFile')).toBe('/etc/georep/georep.env');
  });
});
