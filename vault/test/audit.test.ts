import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, lastRecord, verifyAudit } from '../src/audit.js';
import { initVault, LocalVault } from '../src/store.js';
import { vaultPaths } from '../src/paths.js';
import { FAST_KDF, tmpHome } from './helpers.js';

let t: ReturnType<typeof tmpHome>;
beforeEach(() => {
  t = tmpHome();
  mkdirSync(vaultPaths(t.home).dir);
});
afterEach(() => t.cleanup());

describe('the audit log', () => {
  it('records every read and write by name, never a value, chained by hash', async () => {
    await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
    const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    await v.set('db/password', 'super-secret-value');
    await v.get('db/password');
    await v.list();
    await v.remove('db/password');
    await v.get('db/password').catch(() => undefined);
    const file = vaultPaths(t.home).audit;
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('super-secret-value');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.op)).toEqual(['init', 'set', 'get', 'list', 'rm', 'get']);
    expect(lines[2]).toMatchObject({ names: ['db/password'], via: 'local', pid: process.pid, gen: 2 });
    expect(lines[5]).toMatchObject({ ok: false, detail: 'not found' });
    expect(verifyAudit(file)).toEqual({ ok: true, entries: 6 });
  });

  it('finds an edited, a removed and a reordered line', async () => {
    const file = vaultPaths(t.home).audit;
    const lockFile = vaultPaths(t.home).auditLock;
    for (let i = 0; i < 5; i++) await appendAudit(file, lockFile, 1, { op: 'get', names: [`s${i}`], via: 'local', pid: 1 });
    const good = readFileSync(file, 'utf8');
    const lines = good.trim().split('\n');
    writeFileSync(file, good.replace('"s2"', '"s9"'));
    expect(verifyAudit(file)).toMatchObject({ ok: false, brokenAt: 3, problem: expect.stringContaining('edited') });
    writeFileSync(file, [lines[0], lines[1], lines[3], lines[4]].join('\n') + '\n');
    expect(verifyAudit(file)).toMatchObject({ ok: false, brokenAt: 3 });
    writeFileSync(file, [lines[1], lines[0], ...lines.slice(2)].join('\n') + '\n');
    expect(verifyAudit(file)).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('survives a torn last line: it is reported, and later lines still append whole', async () => {
    const file = vaultPaths(t.home).audit;
    const lockFile = vaultPaths(t.home).auditLock;
    await appendAudit(file, lockFile, 1, { op: 'set', via: 'local', pid: 1 });
    appendFileSync(file, '{"seq":2,"ts":"2026');
    expect(verifyAudit(file)).toMatchObject({ ok: false, brokenAt: 2, problem: expect.stringContaining('incomplete') });
    const rec = await appendAudit(file, lockFile, 1, { op: 'get', via: 'local', pid: 1 });
    expect(rec.seq).toBe(2);
    expect(lastRecord(file)?.hash).toBe(rec.hash);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
  });
});
