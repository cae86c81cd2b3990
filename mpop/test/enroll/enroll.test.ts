import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, wirePaths } from '@meshpop/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll, EnrollError, EnrollOptions } from '../../src/enroll/enroll.js';
import { findBins, installPackages, uploadTarballs } from '../../src/enroll/install.js';
import { controllerVersions } from '../../src/enroll/packages.js';
import { RemoteHost } from '../../src/enroll/remote.js';
import { sshConnect } from '../../src/enroll/ssh.js';
import { isMpopError } from '../../src/errors.js';
import { hasSshd, hasSudo, Sshd, startSshd } from './sshd.js';

const root = process.getuid?.() === 0;
const MPOP_BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/**
 * enroll's steps against a real sshd on loopback, from a controller home holding a Wire registry (the
 * coordinator's state, never served): each fault stops at its own step with a clear error, and the
 * packages path (npm pack here, SFTP upload, SHA-256 checked there) is run for real.
 */
describe.skipIf(!root || !hasSshd())('mpop enroll against a real sshd on loopback', () => {
  let sshd: Sshd;
  let home: string;
  const base = (over: Partial<EnrollOptions>): EnrollOptions => ({
    home,
    name: 'lo1',
    target: `root@127.0.0.1`,
    port: sshd.port,
    auth: { keyFile: sshd.rootKey },
    acceptHostKey: sshd.fingerprint,
    connectTimeoutMs: 10_000,
    ...over,
  });
  const failure = async (p: Promise<unknown>): Promise<EnrollError> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof EnrollError) return err;
      throw err;
    }
    throw new Error('enroll did not fail');
  };

  beforeAll(async () => {
    sshd = await startSshd();
    home = mkdtempSync(join(tmpdir(), 'mpop-enroll-ctl-'));
    mkdirSync(wirePaths(home).dir, { recursive: true });
    const reg = new Registry(wirePaths(home).registry);
    reg.setMeta('url', 'https://127.0.0.1:1');
    reg.setMeta('fingerprint', Array.from({ length: 32 }, () => 'AB').join(':'));
    reg.setMeta('probe_port', '8788');
    reg.close();
  }, 30_000);
  const homes: string[] = [];
  afterAll(async () => {
    await sshd?.stop();
    for (const h of [home, ...homes]) rmSync(h, { recursive: true, force: true });
  });

  it('refuses to run where no Wire coordinator is, before connecting anywhere', async () => {
    const other = mkdtempSync(join(tmpdir(), 'mpop-enroll-nocoord-'));
    try {
      const err = await enroll(base({ home: other })).catch((e: unknown) => e);
      expect(isMpopError(err, 'MPOP_ENROLL')).toBe(true);
      expect((err as Error).message).toContain('this machine is not the Wire coordinator');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a name Wire would refuse, and a hostile target, as usage errors', async () => {
    for (const [name, target] of [['Bad_Name', 'root@127.0.0.1'], ['ok', 'root@host;rm -rf /'], ['ok', '$(id)@127.0.0.1']] as const) {
      const err = await enroll(base({ name, target })).catch((e: unknown) => e);
      expect(isMpopError(err, 'MPOP_USAGE'), String(err)).toBe(true);
    }
    for (const over of [{ remoteHome: 'relative/home' }, { prefix: '/usr/local\n/etc' }, { group: 'all' }, { group: 'a b' }]) {
      const err = await enroll(base(over)).catch((e: unknown) => e);
      expect(isMpopError(err, 'MPOP_USAGE'), `${JSON.stringify(over)}: ${String(err)}`).toBe(true);
    }
  });

  it('stops at connect: a wrong password, an unknown host key, an unreachable host', async () => {
    const pw = await failure(enroll(base({ target: `${sshd.user}@127.0.0.1`, auth: { password: 'nope' } })));
    expect([pw.step, pw.code]).toEqual(['connect', 'MPOP_ENROLL']);
    expect(pw.message).toContain('refused the login (tried: password)');
    expect(pw.steps).toMatchObject([{ step: 'connect', status: 'failed' }]);

    const unknown = await failure(enroll(base({ acceptHostKey: undefined, home: mkHome() })));
    expect([unknown.step, unknown.code]).toEqual(['connect', 'MPOP_HOST_KEY']);
    expect(unknown.message).toContain(sshd.fingerprint);

    const down = await failure(enroll(base({ port: 1 })));
    expect([down.step, down.code]).toEqual(['connect', 'MPOP_UNREACHABLE']);
  });

  it('stops at root for a user who is not root and has no sudo, after connect and system passed', async () => {
    const err = await failure(enroll(base({ target: `${sshd.user}@127.0.0.1`, auth: { password: sshd.password } })));
    expect([err.step, err.code]).toEqual(['root', 'MPOP_ENROLL']);
    expect(err.message).toContain(`${sshd.user} on 127.0.0.1 is not root and has no passwordless sudo`);
    expect(err.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['connect:ok', 'system:ok', 'root:failed']);
    expect(err.steps[1]!.detail).toMatch(/^Linux x86_64|^Linux aarch64/);
  });

  it.skipIf(!hasSudo())('a user with passwordless sudo passes root, and root commands go through sudo -n with their env and words intact', async () => {
    const revoke = sshd.grantSudo();
    try {
      const err = await failure(enroll(base({ target: `${sshd.user}@127.0.0.1`, auth: { password: sshd.password }, skipInstall: true, prefix: '/nonexistent-prefix' })));
      expect(err.steps.find((s) => s.step === 'root')).toMatchObject({ status: 'ok', detail: `${sshd.user} has passwordless sudo` });
      expect(err.step).toBe('packages');
      const s = await sshConnect({ host: '127.0.0.1', port: sshd.port, user: sshd.user, knownHosts: join(home, 'mpop', 'known_hosts'), acceptHostKey: sshd.fingerprint }, { password: sshd.password });
      try {
        const host = new RemoteHost(s, '127.0.0.1');
        host.privilege = 'sudo';
        const r = await host.run(['sh', '-c', 'echo "$(id -u) $MESHPOP_HOME"'], { root: true, env: { MESHPOP_HOME: "/var/lib/it's here" } });
        expect(r.stdout.trim()).toBe("0 /var/lib/it's here");
        const sh = await host.sh('id -u; printf "%s|" "$@"', ['a b', '$(id)'], { root: true });
        expect(sh.stdout).toBe('0\na b|$(id)|');
      } finally {
        s.close();
      }
    } finally {
      revoke();
    }
  });

  it('with --skip-install, a host without the packages stops at packages, and no token was made', async () => {
    const err = await failure(enroll(base({ skipInstall: true, prefix: '/nonexistent-prefix' })));
    if (err.step !== 'packages') throw err; // a machine with MeshPOP on PATH would go further
    expect(err.message).toContain('--skip-install, but sv, wire, vssh are not on 127.0.0.1');
    const reg = new Registry(wirePaths(home).registry);
    try {
      expect(reg.listTokens()).toEqual([]);
    } finally {
      reg.close();
    }
  });

  it('packs vault, wire and vssh here, uploads them over SFTP, and the host has them byte for byte', async () => {
    const s = await sshConnect({ host: '127.0.0.1', port: sshd.port, user: 'root', knownHosts: join(home, 'mpop', 'known_hosts'), acceptHostKey: sshd.fingerprint }, { keyFile: sshd.rootKey });
    const local = mkdtempSync(join(tmpdir(), 'mpop-enroll-pack-'));
    const remote = mkdtempSync(join(tmpdir(), 'mpop-enroll-remote-'));
    try {
      const host = new RemoteHost(s, '127.0.0.1');
      const said: string[] = [];
      const tarballs = await uploadTarballs(host, local, remote, (t) => said.push(t));
      expect(tarballs.map((t) => [t.pkg, t.version])).toEqual(Object.entries(controllerVersions()));
      for (const t of tarballs) {
        const there = readFileSync(join(remote, t.file.split('/').pop()!));
        expect(createHash('sha256').update(there).digest('hex')).toBe(t.sha256);
      }
      expect(said).toContain('packing vault, wire and vssh');
      // The tarballs resolve together: wire and vssh take @meshpop/vault from its tarball, not the registry.
      const pkg = JSON.parse(readFileSync(join(remote, 'package.json'), 'utf8'));
      expect(Object.keys(pkg.dependencies)).toEqual(['@meshpop/vault', '@meshpop/wire', '@meshpop/vssh']);
      // A tarball damaged on the host is caught by its checksum.
      const victim = join(remote, tarballs[1]!.file.split('/').pop()!);
      writeFileSync(victim, 'truncated');
      const sums = tarballs.map((t) => `${t.sha256}  ${t.file.split('/').pop()}`).join('\n') + '\n';
      expect((await host.sh('cd "$1" && sha256sum -c --quiet -', [remote], { input: sums })).code).not.toBe(0);
    } finally {
      s.close();
      rmSync(local, { recursive: true, force: true });
      rmSync(remote, { recursive: true, force: true });
    }
  }, 60_000);

  // The whole install builds native modules (better-sqlite3, argon2, node-pty) on the host: a few minutes on
  // two cores. Run it with MPOP_ENROLL_FULL_INSTALL=1.
  it.skipIf(!process.env.MPOP_ENROLL_FULL_INSTALL)('installs the packages on the host into a prefix, where their bins answer at this version', async () => {
    const s = await sshConnect({ host: '127.0.0.1', port: sshd.port, user: 'root', knownHosts: join(home, 'mpop', 'known_hosts'), acceptHostKey: sshd.fingerprint }, { keyFile: sshd.rootKey });
    const prefix = mkdtempSync(join(tmpdir(), 'mpop-enroll-prefix-'));
    try {
      const host = new RemoteHost(s, '127.0.0.1');
      host.privilege = 'root';
      const before = await findBins(host, prefix);
      const { dir } = await installPackages(host, prefix);
      expect(dir).toBe(`${prefix}/lib/meshpop`);
      const after = await findBins(host, prefix);
      const want = controllerVersions();
      for (const b of after) {
        expect(b.version).toBe(want[b.pkg]);
        expect(b.path).toBe(`${prefix}/lib/meshpop/node_modules/${b.pkg}/bin/run.js`);
      }
      expect(before.length).toBe(3);
    } finally {
      s.close();
      rmSync(prefix, { recursive: true, force: true });
    }
  }, 900_000);

  it('the built bin prints each step with a mark and exits with the failing step\'s code', async () => {
    const env = { ...process.env, MESHPOP_HOME: mkHome(), SSH_PASSWORD: sshd.password, NO_COLOR: '1' };
    delete (env as Record<string, string | undefined>).SSH_AUTH_SOCK;
    const unknown = spawnSync(process.execPath, [MPOP_BIN, 'enroll', 'lo2', `${sshd.user}@127.0.0.1`, '--port', String(sshd.port)], { env, encoding: 'utf8', timeout: 60_000 });
    expect(unknown.status, unknown.stderr).toBe(5);
    expect(unknown.stdout).toMatch(/^✗ connect\s+\S+ m?s\s+failed$/m);
    expect(unknown.stderr).toMatch(/^mpop: connect: the host key of \[127\.0\.0\.1\]:\d+ is not known/m);
    expect(unknown.stderr).toContain(`--accept-host-key ${sshd.fingerprint}`);
    const noRoot = spawnSync(process.execPath, [MPOP_BIN, 'enroll', 'lo2', `${sshd.user}@127.0.0.1`, '--port', String(sshd.port), '--accept-host-key', sshd.fingerprint], { env, encoding: 'utf8', timeout: 60_000 });
    expect(noRoot.status, noRoot.stderr).toBe(1);
    expect(noRoot.stdout).toMatch(/^✓ connect .*\n✓ system .*\n✗ root /m);
    expect(noRoot.stderr).toContain('mpop: root: ');
    const pwFile = join(env.MESHPOP_HOME, 'pw');
    writeFileSync(pwFile, 'wrong\n', { mode: 0o600 });
    const json = spawnSync(process.execPath, [MPOP_BIN, 'enroll', 'lo2', `${sshd.user}@127.0.0.1`, '--port', String(sshd.port), '--password-file', pwFile, '--json'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'MPOP_ENROLL' } });
    expect(json.stdout).not.toContain('wrong');
    const usage = spawnSync(process.execPath, [MPOP_BIN, 'enroll', 'lo2', `${sshd.user}@127.0.0.1`, '--passphrase-file', pwFile], { env, encoding: 'utf8', timeout: 60_000 });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--passphrase-file goes with --key FILE');
    const empty = join(env.MESHPOP_HOME, 'empty');
    writeFileSync(empty, '');
    const noPw = spawnSync(process.execPath, [MPOP_BIN, 'enroll', 'lo2', `${sshd.user}@127.0.0.1`, '--password-file', empty], { env, encoding: 'utf8', timeout: 60_000 });
    expect([noPw.status, noPw.stderr.trim()]).toEqual([2, `mpop: the password file ${empty} is empty.`]);
  }, 120_000);

  function mkHome(): string {
    const h = mkdtempSync(join(tmpdir(), 'mpop-enroll-h-'));
    homes.push(h);
    mkdirSync(wirePaths(h).dir, { recursive: true });
    const reg = new Registry(wirePaths(h).registry);
    reg.setMeta('url', 'https://127.0.0.1:1');
    reg.setMeta('fingerprint', Array.from({ length: 32 }, () => 'AB').join(':'));
    reg.close();
    return h;
  }
});
