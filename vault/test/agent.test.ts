import { connect } from 'node:net';
import { existsSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The agent runs as its own process from the built package, so these tests use the build throughout.
import { AgentVault, LocalVault, VaultError, agentRequest, agentStatus, initVault, openVault, startAgent, vaultPaths, vaultStatus } from '../dist/index.js';
import { FAST_KDF, tmpHome } from './helpers.js';

let t: ReturnType<typeof tmpHome>;
let pids: number[] = [];
beforeEach(async () => {
  t = tmpHome();
  await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
});
afterEach(() => {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  pids = [];
  t.cleanup();
});

async function unlocked(idleMs = 60_000): Promise<number> {
  const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
  await v.set('db/password', 'hunter2');
  const pid = await startAgent(v, idleMs);
  pids.push(pid);
  return pid;
}

function raw(socket: string, payload: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(socket);
    let out = '';
    c.on('connect', () => c.end(payload));
    c.on('data', (d) => (out += d.toString()));
    c.on('close', () => resolve(out));
    c.on('error', () => resolve(out));
  });
}

describe('the unlock agent', () => {
  it('serves the vault on a 0600 socket, and openVault uses it without a password', async () => {
    const pid = await unlocked();
    const socket = vaultPaths(t.home).socket;
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const v = await openVault({ home: t.home, env: {} });
    expect(v).toBeInstanceOf(AgentVault);
    expect(await v.getString('db/password')).toBe('hunter2');
    await v.set('bin', new Uint8Array([0, 1, 2, 255]));
    expect([...(await v.get('bin'))]).toEqual([0, 1, 2, 255]);
    expect((await v.list()).map((s) => s.name)).toEqual(['bin', 'db/password']);
    expect(await v.has('nope')).toBe(false);
    const err = await v.get('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).code).toBe('VAULT_NOT_FOUND');
    expect((await agentStatus(socket))?.pid).toBe(pid);
  });

  it('stays up through garbage, unknown operations and oversized requests', async () => {
    await unlocked();
    const socket = vaultPaths(t.home).socket;
    expect(JSON.parse(await raw(socket, 'not json\n'))).toMatchObject({ ok: false, code: 'VAULT_BAD_INPUT' });
    expect(JSON.parse(await raw(socket, Buffer.from([0xff, 0x00, 0x0a])))).toMatchObject({ ok: false });
    expect(JSON.parse(await raw(socket, '{"op":"constructor"}\n'))).toMatchObject({ ok: false, code: 'VAULT_BAD_INPUT' });
    expect(JSON.parse(await raw(socket, '{"op":"get","args":{"name":"../x"}}\n'))).toMatchObject({ ok: false, code: 'VAULT_BAD_NAME' });
    await raw(socket, Buffer.alloc(5 * 1024 * 1024, 0x61));
    await raw(socket, '{"op":"get"'); // cut off mid-request
    expect(await agentRequest(socket, 'get', { name: 'db/password' })).toEqual({ value: Buffer.from('hunter2').toString('base64') });
  });

  it('locks itself after its idle timeout, and on request', async () => {
    await unlocked(600);
    const socket = vaultPaths(t.home).socket;
    expect(await agentStatus(socket)).toBeDefined();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await agentStatus(socket)).toBeUndefined();
    expect(existsSync(socket)).toBe(false);
    await unlocked();
    await agentRequest(socket, 'lock');
    await new Promise((r) => setTimeout(r, 200));
    expect(await agentStatus(socket)).toBeUndefined();
  });

  it('treats the socket of a killed agent as locked, and a new agent replaces it', async () => {
    const pid = await unlocked();
    const socket = vaultPaths(t.home).socket;
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(socket)).toBe(true);
    const err = await openVault({ home: t.home, env: {} }).catch((e: unknown) => e);
    expect((err as VaultError).code).toBe('VAULT_LOCKED');
    expect((err as VaultError).message).toContain('sv unlock');
    const s = await vaultStatus(t.home);
    expect(s.agent).toEqual({ running: false, staleSocket: true });
    await unlocked();
    expect(await (await openVault({ home: t.home, env: {} })).getString('db/password')).toBe('hunter2');
  });

  it('refuses to start a second agent beside a live one', async () => {
    await unlocked();
    const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    const err = await startAgent(v, 60_000).catch((e: unknown) => e);
    expect((err as VaultError).code).toBe('VAULT_AGENT');
    expect((err as VaultError).message).toContain('already running');
  });
});
