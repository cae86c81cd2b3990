import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../src/registry/registry.js';
import { startTimeOf } from '../src/pidfile.js';
import { encodeToken } from '../src/token.js';

// The `wire` bin as a whole process, for what needs no network namespace (the lab tests do the rest).
const WIRE = fileURLToPath(new URL('../bin/run.js', import.meta.url));
let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'wire-cli-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const wire = (args: string[]) => {
  const r = spawnSync(process.execPath, [WIRE, ...args], { env: { ...process.env, MESHPOP_HOME: home }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('wire', () => {
  it('lists its commands, each with --json', () => {
    const top = wire(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['config', 'down', 'install-service', 'peers', 'ping', 'remove', 'serve', 'status', 'token', 'up']) expect(top.stdout).toContain(`  ${c} `);
    for (const c of ['serve', 'up', 'down', 'status', 'peers', 'ping', 'remove', 'config', 'token create', 'token list', 'token revoke', 'install-service']) {
      const r = wire([...c.split(' '), '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain('--json');
    }
  });

  it('says what to do where it cannot act, with an exit code for each case', () => {
    expect(wire(['status'])).toMatchObject({ code: 3, stderr: expect.stringContaining('wire up --join TOKEN') });
    expect(wire(['token', 'create', 'g2'])).toMatchObject({ code: 8, stderr: expect.stringContaining('run this on the coordinator') });
    expect(wire(['remove', 'g2'])).toMatchObject({ code: 8 });
    const bad = wire(['up', '--join', 'not-a-token', '--json']);
    expect(bad.code).toBe(5);
    expect(JSON.parse(bad.stdout)).toEqual({ error: { code: 'WIRE_BAD_TOKEN', message: expect.stringContaining('does not start with wire1_') } });
  });

  it('bad input exits 2 (usage), saying what is wrong; a --stale-after below the keepalive is refused', () => {
    expect(wire(['up', '--stale-after', '10'])).toMatchObject({ code: 2, stderr: expect.stringContaining('at least 25 s') });
    expect(wire(['up', '--stale-after', '24', '--json']).code).toBe(2);
    expect(wire(['up', '--listen-port', '70000']).code).toBe(2);
    expect(wire(['ping', 'x', '--count', '0']).code).toBe(2);
    expect(wire(['serve', '--endpoint', '192.0.2.1', '--sync-interval', '0']).code).toBe(2);
    // oclif's own refusals too, and with --json as one small {error} document
    for (const args of [['up', '--interface', 'a', '--interface', 'b', '--json'], ['up', '--bogus', '--json'], ['ping', '--json']]) {
      const r = wire(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout), args.join(' ')).toEqual({ error: { code: 'WIRE_BAD_INPUT', message: expect.any(String) } });
    }
  });

  it('token create validates and bounds the TTL before writing anything; token list always reads; token revoke', () => {
    mkdirSync(join(home, 'wire'), { recursive: true });
    const reg = new Registry(join(home, 'wire', 'registry.db'));
    reg.setMeta('url', 'https://192.0.2.1:8787');
    reg.setMeta('fingerprint', Array.from({ length: 32 }, () => 'AB').join(':'));
    reg.setMeta('probe_port', '8788');
    // a row an older wire wrote with a TTL no Date can hold
    reg.db.prepare('INSERT INTO tokens (id, name, secret_hash, created, expires) VALUES (?, ?, ?, ?, ?)').run('0000000000000000', 'old', Buffer.alloc(32), 1, 1e20);
    reg.close();
    for (const ttl of ['999999999d', '91d', '0s', '1y', '-5m', '1e3s', '1.5h']) {
      expect(wire(['token', 'create', 'x', '--ttl', ttl]), ttl).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a TTL|at most 90 days/) });
    }
    const list = wire(['token', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((t: { name: string }) => t.name)).toEqual(['old']);
    expect(wire(['token', 'list']).stdout).toMatch(/old\s+-\s+unused/);
    const made = wire(['token', 'create', 'g2', '--ttl', '90d', '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(wire(['token', 'revoke', 'nope'])).toMatchObject({ code: 4, stderr: expect.stringContaining('no unused token') });
    const revoked = wire(['token', 'revoke', 'g2', '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout).revoked).toHaveLength(1);
    expect(wire(['token', 'list']).stdout).toMatch(/g2\s+\S+\s+revoked /);
    expect(wire(['token', 'revoke', 'g2']).code).toBe(4);
  });

  it('down kills only the `wire up` that up.pid names: a stale file (a reused pid) kills nothing', async () => {
    mkdirSync(join(home, 'wire'), { recursive: true });
    writeFileSync(join(home, 'wire', 'node.json'), JSON.stringify({ id: 'x', name: 'g2', meshIp: '10.99.0.2', iface: 'wiretest9', listenPort: 51820 }));
    const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const start = startTimeOf(victim.pid!)!;
      expect(start).toMatch(/^\d+$/);
      for (const text of [`${victim.pid}\n`, `${victim.pid} ${Number(start) + 1}\n`]) {
        writeFileSync(join(home, 'wire', 'up.pid'), text);
        const r = wire(['down', '--json']);
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ stopped: false, stalePid: victim.pid });
        expect(r.stderr).toContain('nothing was killed');
        expect(victim.exitCode === null && victim.signalCode === null, 'the unrelated process still runs').toBe(true);
        expect(existsSync(join(home, 'wire', 'up.pid'))).toBe(false);
      }
      // The same pid with its own start time is the process that wrote the file: it is stopped.
      writeFileSync(join(home, 'wire', 'up.pid'), `${victim.pid} ${start}\n`);
      const exited = new Promise((resolve) => victim.once('exit', (_code, signal) => resolve(signal)));
      expect(JSON.parse(wire(['down', '--json']).stdout)).toMatchObject({ stopped: true, stalePid: null, unit: null });
      expect(await exited).toBe('SIGTERM');
    } finally {
      victim.kill('SIGKILL');
    }
  });

  it('up --join checks what it can before it spends the token: the interface name, root', () => {
    // The token names a coordinator nobody answers at: had the join gone ahead, this would be exit 6.
    const token = encodeToken({ url: 'https://127.0.0.1:9', fingerprint: Array.from({ length: 32 }, () => 'AB').join(':'), name: 'g2', id: 'abc', secret: 's3cret', probePort: 9 });
    const long = wire(['up', '--join', token, '--interface', 'abcdefghijklmnopqrstuvwx', '--json']);
    expect(long.code).toBe(2);
    expect(JSON.parse(long.stdout).error.message).toContain('cannot be an interface name');
    expect(wire(['up', '--join', token, '--interface', 'a/b']).code).toBe(2);
    expect(existsSync(join(home, 'wire', 'node.json'))).toBe(false);
    if (process.getuid?.() === 0) {
      chownSync(home, 65534, 65534);
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, WIRE, 'up', '--join', token, '--json'], { env: { ...process.env, MESHPOP_HOME: home }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(12);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'WIRE_NOT_PERMITTED', message: expect.stringContaining('needs root (or CAP_NET_ADMIN)') });
    }
  });

  it('install-service writes a unit that runs wire with the vault opened unattended', () => {
    const dir = join(home, 'units');
    const r = wire(['install-service', '--role', 'coordinator', '--endpoint', '203.0.113.7', '--vault-key-file', '/var/lib/meshpop/vault.key', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const unit = readFileSync(join(dir, 'wire-serve.service'), 'utf8');
    expect(unit).toContain('Environment=MESHPOP_HOME=/var/lib/meshpop');
    expect(unit).toContain('Environment=SV_KEY_FILE=/var/lib/meshpop/vault.key');
    expect(unit).toMatch(/ExecStart=\S+node \S+wire\/bin\/run\.js serve --endpoint 203\.0\.113\.7/);
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('RestartPreventExitStatus=2\n');
    expect(wire(['install-service', '--role', 'node', '--vault-key-file', 'k', '--dir', dir]).code).toBe(0);
    // a node removed from the mesh exits 11: the unit must not restart it into the same refusal
    expect(readFileSync(join(dir, 'wire-up.service'), 'utf8')).toContain('RestartPreventExitStatus=2 11\n');
    expect(wire(['install-service', '--role', 'node', '--dir', dir])).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot type a password') });
    expect(wire(['install-service', '--role', 'coordinator', '--vault-key-file', 'k', '--dir', dir])).toMatchObject({ code: 2, stderr: expect.stringContaining('--endpoint') });
  });
});
