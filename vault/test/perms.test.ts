import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The agent runs as its own process from the built package, so these tests use the build throughout.
import { LocalVault, VaultError, agentRequest, agentStatus, initVault, readAudit, startAgent, vaultPaths } from '../dist/index.js';
import { FAST_KDF, FAST_KDF_FLAGS, runSv, tmpHome } from './helpers.js';

// Another user on the same machine, as the review found: `nobody` (tests run as root).
const NOBODY = 65534;

let t: ReturnType<typeof tmpHome>;
let pids: number[] = [];
const extra: string[] = [];
beforeEach(() => {
  t = tmpHome('pw');
});
afterEach(() => {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  pids = [];
  for (const d of extra.splice(0)) rmSync(d, { recursive: true, force: true });
  t.cleanup();
});

const env = (): NodeJS.ProcessEnv => ({ MESHPOP_HOME: t.home, SV_PASSWORD_FILE: t.pwFile });

/** asNobody runs node code as uid 65534 and resolves with what it printed once it prints a line. */
function asNobody(code: string): Promise<{ pid: number; line: string; output: () => string }> {
  const child = spawn(process.execPath, ['-e', code], { uid: NOBODY, gid: NOBODY, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  pids.push(child.pid!);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (out.includes('\n')) resolve({ pid: child.pid!, line: out.split('\n')[0]!, output: () => out });
    };
    child.stdout.on('data', check);
    child.on('exit', (c) => reject(new Error(`nobody's process exited (${c}): ${out}`)));
  });
}

describe('folders and sockets other users can touch', () => {
  it('refuses a vault folder another user can write or owns, and says how to fix it', async () => {
    mkdirSync(join(t.home, 'vault'), { mode: 0o777 });
    chmodSync(join(t.home, 'vault'), 0o777);
    const r = await runSv(['init', '--shares', '0', ...FAST_KDF_FLAGS, '--json'], { env: env() });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'VAULT_INSECURE', message: expect.stringContaining(`chmod 700 ${join(t.home, 'vault')}`) });
    expect(existsSync(join(t.home, 'vault', 'store.sv'))).toBe(false);

    chmodSync(join(t.home, 'vault'), 0o700);
    expect((await runSv(['init', '--shares', '0', ...FAST_KDF_FLAGS], { env: env() })).code).toBe(0);
    // Made writable (or given away) after init: every way in refuses it.
    chmodSync(join(t.home, 'vault'), 0o770);
    for (const args of [['get', 'x'], ['set', 'x'], ['unlock'], ['list']]) {
      const o = await runSv(args, { env: env(), input: 'v' });
      expect(o.code, args.join(' ')).toBe(1);
      expect(o.stderr, args.join(' ')).toContain('can be written by other users (mode 0770)');
    }
    chmodSync(join(t.home, 'vault'), 0o700);
    chownSync(join(t.home, 'vault'), NOBODY, NOBODY);
    expect((await runSv(['list'], { env: env() })).stderr).toContain(`belongs to uid ${NOBODY}`);
    chownSync(join(t.home, 'vault'), 0, 0);
    // A folder above it that others can write (and that is not sticky, as /tmp is) is refused too.
    chmodSync(t.home, 0o757);
    expect((await runSv(['list'], { env: env() })).stderr).toContain(`chmod go-w ${t.home}`);
    chmodSync(t.home, 0o700);
    expect((await runSv(['list'], { env: env() })).code).toBe(0);
    // Through a symlink that sits in a folder others can write: they could point it elsewhere.
    const open = join(t.home, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    symlinkSync(join(t.home, 'vault'), join(open, 'vault'));
    const viaLink = await runSv(['list'], { env: { ...env(), MESHPOP_HOME: open } });
    expect(viaLink.code).toBe(1);
    expect(viaLink.stderr).toContain(`chmod go-w ${open}`);
  });

  it('never sends a value to an agent socket another user planted', async () => {
    await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
    // nobody listens in a folder of its own; the socket is then moved into the vault folder
    // (as a world-writable folder would have let nobody do itself).
    const theirs = mkdtempSync(join(tmpdir(), 'sv-nobody-'));
    extra.push(theirs);
    chownSync(theirs, NOBODY, NOBODY);
    const sock = join(theirs, 'agent.sock');
    const spy = await asNobody(`
      const net = require('net');
      const s = net.createServer((c) => c.on('data', (d) => { process.stdout.write('GOT ' + d.toString().trim() + '\\n'); c.end('{"ok":true,"result":{"value":"YXR0YWNrZXI="}}\\n'); }));
      s.listen(${JSON.stringify(sock)}, () => process.stdout.write('listening\\n'));`);
    expect(spy.line).toBe('listening');
    renameSync(sock, vaultPaths(t.home).socket);
    const set = await runSv(['set', 'app/x'], { env: { MESHPOP_HOME: t.home }, input: 'the-real-value' });
    expect(set.code).toBe(1);
    expect(set.stderr).toContain(`a socket of uid ${NOBODY}, not your vault agent's`);
    const get = await runSv(['get', 'app/x', '--json'], { env: { MESHPOP_HOME: t.home } });
    expect(JSON.parse(get.stdout).error.code).toBe('VAULT_INSECURE');
    const err = await agentRequest(vaultPaths(t.home).socket, 'get', { name: 'app/x' }).catch((e: unknown) => e);
    expect((err as VaultError).code).toBe('VAULT_INSECURE');
    await new Promise((r) => setTimeout(r, 200));
    expect(spy.output()).not.toContain('GOT');
  });

  it('audits the caller as the kernel sees it, whatever the request claims, and refuses other users', async () => {
    await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
    const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    await v.set('db/password', 'hunter2');
    pids.push(await startAgent(v, 60_000));
    const paths = vaultPaths(t.home);
    const forged = await new Promise<string>((resolve) => {
      const c = connect(paths.socket);
      let out = '';
      c.on('connect', () => c.end('{"op":"get","args":{"name":"db/password"},"pid":1,"uid":1234}\n'));
      c.on('data', (d) => (out += d.toString()));
      c.on('close', () => resolve(out));
    });
    expect(JSON.parse(forged)).toMatchObject({ ok: true });
    const last = readAudit(paths).at(-1)!;
    expect(last).toMatchObject({ op: 'get', names: ['db/password'], via: 'agent', pid: process.pid, uid: 0 });

    // A claimed pid is only where the agent looks first: naming a process that holds another connection to the
    // agent (not this one) does not make the audit line say it.
    const holder = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(paths.socket)}).on('connect', () => process.stdout.write('up\\n')); setTimeout(() => {}, 30000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    pids.push(holder.pid!);
    await new Promise((r) => holder.stdout!.once('data', r));
    const claimed = await new Promise<string>((resolve) => {
      const c = connect(paths.socket);
      let out = '';
      c.on('connect', () => c.end(`{"op":"get","args":{"name":"db/password"},"pid":${holder.pid}}\n`));
      c.on('data', (d) => (out += d.toString()));
      c.on('close', () => resolve(out));
    });
    expect(JSON.parse(claimed)).toMatchObject({ ok: true });
    expect(readAudit(paths).at(-1)).toMatchObject({ op: 'get', pid: process.pid });
    holder.kill();

    // Let nobody reach the socket (the folder stays unwritable by others): the agent still refuses it.
    chmodSync(t.home, 0o711);
    chmodSync(paths.dir, 0o711);
    chmodSync(paths.socket, 0o666);
    const before = readAudit(paths).length;
    const other = await asNobody(`
      const c = require('net').connect(${JSON.stringify(paths.socket)});
      let out = '';
      c.on('connect', () => c.end('{"op":"get","args":{"name":"db/password"}}\\n'));
      c.on('data', (d) => (out += d));
      c.on('close', () => process.stdout.write(out.trim() + '\\n'));
      c.on('error', (e) => process.stdout.write('ERR ' + e.code + '\\n'));`);
    expect(JSON.parse(other.line)).toMatchObject({ ok: false, code: 'VAULT_INSECURE' });
    expect(other.line).not.toContain(Buffer.from('hunter2').toString('base64'));
    expect(readAudit(paths).length).toBe(before);
  });

  it('a status probe is not use: probes do not keep an idle agent unlocked', async () => {
    await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
    const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    pids.push(await startAgent(v, 1500));
    const socket = vaultPaths(t.home).socket;
    const first = await agentStatus(socket);
    expect(first).toBeDefined();
    const deadline = Date.now() + 3500;
    let s = first;
    while (s && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      s = await agentStatus(socket);
      if (s) expect(s.expiresAt).toBe(first!.expiresAt);
    }
    expect(s).toBeUndefined();
  });
});
