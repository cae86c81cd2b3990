import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectAudit, readAudit } from '../src/audit.js';
import { VaultError } from '../src/errors.js';
import { readHeader, initVault, LocalVault, resetAudit } from '../src/store.js';
import { parseStore, serializeStore } from '../src/format.js';
import { subkey } from '../src/crypto/keys.js';
import { vaultPaths } from '../src/paths.js';
import { FAST_KDF, tmpHome } from './helpers.js';

let t: ReturnType<typeof tmpHome>;
beforeEach(() => {
  t = tmpHome();
});
afterEach(() => t.cleanup());

const P = (): ReturnType<typeof vaultPaths> => vaultPaths(t.home);

async function fresh(): Promise<LocalVault> {
  await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
  return LocalVault.unlock({ password: 'pw' }, { home: t.home });
}

/** refusal is how opening and reading the vault fails now (undefined when it works). */
async function refusal(): Promise<{ code: string; message: string } | undefined> {
  return LocalVault.unlock({ password: 'pw' }, { home: t.home })
    .then((v) => v.get('a'))
    .then(() => undefined, (e: unknown) => (e instanceof VaultError ? { code: e.code, message: e.message } : { code: `not a VaultError: ${e}`, message: '' }));
}

/** keyless is what `sv status` sees of the log (no key). */
function keyless(): ReturnType<typeof inspectAudit> {
  const { header } = readHeader(P());
  return inspectAudit(P(), { generation: header.generation, ...(header.audit ? { record: header.audit } : {}) });
}

const lines = (): string[] => readFileSync(P().audit, 'utf8').trim().split('\n');

/** rechained is the line an attacker who knows the format (but not the key) adds after `last`: a correct SHA-256 link. */
function rechained(last: string, op: string): string {
  const prev = JSON.parse(last) as { seq: number; hash: string; gen: number };
  const rest = { seq: prev.seq + 1, ts: new Date().toISOString(), gen: prev.gen, op, via: 'local', pid: 1 };
  const hash = createHash('sha256').update(`${prev.hash}\n${JSON.stringify(rest)}`).digest('hex');
  return JSON.stringify({ ...rest, prev: prev.hash, hash, mac: 'ab'.repeat(32) });
}

describe('the audit log', () => {
  it('records every read and write by name, never a value, chained by hash and MACed', async () => {
    const v = await fresh();
    await v.set('db/password', 'super-secret-value');
    await v.get('db/password');
    await v.list();
    await v.remove('db/password');
    await v.get('db/password').catch(() => undefined);
    const text = readFileSync(P().audit, 'utf8');
    expect(text).not.toContain('super-secret-value');
    const recs = readAudit(P());
    expect(recs.map((l) => l.op)).toEqual(['init', 'set', 'get', 'list', 'rm', 'get']);
    expect(recs[2]).toMatchObject({ names: ['db/password'], via: 'local', pid: process.pid, gen: 2 });
    expect(recs[5]).toMatchObject({ ok: false, detail: 'not found' });
    for (const r of recs) expect(r.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(keyless()).toMatchObject({ ok: true, entries: 6 });
    expect((await v.verify()).audit.entries).toBe(7);
  });

  it('finds an edited, a removed and a reordered line, with its line number', async () => {
    const v = await fresh();
    for (let i = 0; i < 4; i++) await v.get(`s${i}`).catch(() => undefined);
    const good = readFileSync(P().audit, 'utf8');
    const l = good.trim().split('\n');
    const cases: [string, string, number][] = [
      ['edited', good.replace('"s2"', '"s9"'), 4],
      ['removed', [l[0], l[1], l[3], l[4]].join('\n') + '\n', 3],
      ['reordered', [l[1], l[0], ...l.slice(2)].join('\n') + '\n', 1],
    ];
    for (const [what, text, line] of cases) {
      writeFileSync(P().audit, text);
      expect(keyless(), what).toMatchObject({ ok: false, brokenAt: line });
      const e = await refusal();
      expect(e?.code, what).toBe('VAULT_AUDIT_BROKEN');
      expect(e?.message, what).toContain(`line ${line}`);
    }
  });

  it('treats every malformed line as tampering, names its line, and never restarts the chain', async () => {
    const v = await fresh();
    await v.set('a', 'x');
    const good = readFileSync(P().audit, 'utf8');
    for (const bad of ['null', '{}', '[]', '42', '"text"', '{"seq":"3"}', 'not json']) {
      writeFileSync(P().audit, good + bad + '\n');
      expect(keyless(), bad).toMatchObject({ ok: false, brokenAt: 3 });
      expect(() => readAudit(P()), bad).toThrow(/line 3/);
      const e = await refusal();
      expect(e?.code, bad).toBe('VAULT_AUDIT_BROKEN');
      expect(e?.message, bad).toContain('line 3');
    }
    // the same in the middle of the log
    const l = good.trim().split('\n');
    writeFileSync(P().audit, [l[0], 'null', l[1]].join('\n') + '\n');
    expect((await refusal())?.message).toContain('line 2');
    writeFileSync(P().audit, good);
    await v.get('a');
    expect(readAudit(P()).map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('survives a torn last line (a crash mid-append): the next append cuts it off', async () => {
    const v = await fresh();
    await v.set('a', 'x');
    appendFileSync(P().audit, '{"seq":3,"ts":"2026');
    expect(keyless()).toMatchObject({ ok: true, entries: 2 });
    await v.get('a');
    expect(readAudit(P()).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(readFileSync(P().audit, 'utf8')).not.toContain('"ts":"2026\n');
    expect((await v.verify()).audit.entries).toBe(4);
  });
});

describe('rollback of the store or of the log', () => {
  it('refuses a missing, emptied or truncated log, a missing or edited head, and lines added by hand', async () => {
    const v = await fresh();
    await v.set('a', 'value');
    for (let i = 0; i < 4; i++) await v.get('a');
    const goodLog = readFileSync(P().audit, 'utf8');
    const goodHead = readFileSync(P().auditHead, 'utf8');
    const l = goodLog.trim().split('\n');
    const attacks: [string, () => void, string][] = [
      ['rm audit.jsonl', () => rmSync(P().audit), 'VAULT_AUDIT_BROKEN'],
      [': > audit.jsonl', () => writeFileSync(P().audit, ''), 'VAULT_AUDIT_BROKEN'],
      ['head -n -3 audit.jsonl', () => writeFileSync(P().audit, l.slice(0, -3).join('\n') + '\n'), 'VAULT_AUDIT_BROKEN'],
      ['head -n -1 audit.jsonl', () => writeFileSync(P().audit, l.slice(0, -1).join('\n') + '\n'), 'VAULT_AUDIT_BROKEN'],
      ['rm audit.head', () => rmSync(P().auditHead), 'VAULT_AUDIT_BROKEN'],
      ['edited head', () => writeFileSync(P().auditHead, goodHead.replace(/"gen":\d+/, '"gen":1')), 'VAULT_AUDIT_BROKEN'],
      ['one re-chained line', () => appendFileSync(P().audit, rechained(l[l.length - 1]!, 'get') + '\n'), 'VAULT_AUDIT_BROKEN'],
      ['a re-chained line without a mac', () => appendFileSync(P().audit, rechained(l[l.length - 1]!, 'get').replace(/,"mac":"[0-9a-f]+"/, '') + '\n'), 'VAULT_AUDIT_BROKEN'],
      ['{}', () => appendFileSync(P().audit, '{}\n'), 'VAULT_AUDIT_BROKEN'],
    ];
    for (const [what, attack, code] of attacks) {
      writeFileSync(P().audit, goodLog);
      writeFileSync(P().auditHead, goodHead);
      attack();
      expect((await refusal())?.code, what).toBe(code);
      const k = keyless();
      // Without the key a forged MAC cannot be told; everything else can.
      if (!what.includes('re-chained') && what !== 'edited head') expect(k.ok, what).toBe(false);
    }
    writeFileSync(P().audit, goodLog);
    writeFileSync(P().auditHead, goodHead);
    expect(await refusal()).toBeUndefined();
  });

  it('refuses an older store put back, also when the log is then removed or emptied', async () => {
    const v = await fresh();
    await v.set('a', 'old');
    const old = join(t.home, 'old-store');
    copyFileSync(P().store, old);
    await v.set('a', 'new');
    await v.get('a');
    const goodLog = readFileSync(P().audit, 'utf8');
    const cases: [string, () => void, string][] = [
      ['store alone', () => undefined, 'VAULT_ROLLBACK'],
      ['and rm audit.jsonl', () => rmSync(P().audit), 'VAULT_AUDIT_BROKEN'],
      ['and : > audit.jsonl', () => writeFileSync(P().audit, ''), 'VAULT_AUDIT_BROKEN'],
      ['and rm audit.jsonl audit.head', () => { rmSync(P().audit); rmSync(P().auditHead); }, 'VAULT_AUDIT_BROKEN'],
    ];
    const goodHead = readFileSync(P().auditHead, 'utf8');
    for (const [what, attack, code] of cases) {
      copyFileSync(old, P().store);
      writeFileSync(P().audit, goodLog);
      writeFileSync(P().auditHead, goodHead);
      attack();
      const e = await refusal();
      expect(e?.code, what).toBe(code);
    }
    copyFileSync(old, P().store);
    writeFileSync(P().audit, goodLog);
    writeFileSync(P().auditHead, goodHead);
    expect((await refusal())?.message).toMatch(/generation 2 .* generation 3/);
  });

  it('cannot see the whole folder put back (store, log and head together): the documented limit', async () => {
    const v = await fresh();
    await v.set('a', 'old');
    const keep = (f: string): string => { const c = join(t.home, `keep-${f.split('/').pop()}`); copyFileSync(f, c); return c; };
    const saved = [P().store, P().audit, P().auditHead].map((f) => [f, keep(f)] as const);
    await v.set('a', 'new');
    for (const [f, c] of saved) copyFileSync(c, f);
    const w = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    expect(await w.getString('a')).toBe('old');
  });
});

describe('a vault written before the store carried its record', () => {
  it('opens, catches a rollback the old way, and takes a record and a head at its first write', async () => {
    const v = await fresh();
    await v.set('a', 'value');
    await v.get('a');
    // Make it look as 0.1.0 left it: no record in the store, no head, no MACs in the log.
    const parsed = parseStore(readFileSync(P().store), P().store);
    delete parsed.doc.header.audit;
    writeFileSync(P().store, serializeStore(parsed.doc, subkey(v.masterKey(), 'mac')));
    rmSync(P().auditHead);
    writeFileSync(P().audit, lines().map((l) => l.replace(/,"mac":"[0-9a-f]{64}"/, '')).join('\n') + '\n');
    const old = readFileSync(P().store);
    const w = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    expect(await w.getString('a')).toBe('value');
    expect(keyless()).toMatchObject({ ok: true });
    await w.set('b', 'new');
    expect(readHeader(P()).header.audit).toMatchObject({ op: 'set', names: ['b'] });
    expect(readFileSync(P().auditHead, 'utf8')).toMatch(/"mac":"[0-9a-f]{64}"/);
    expect((await w.verify()).generation).toBe(3);
    // The legacy store put back: the log has seen a newer generation.
    writeFileSync(P().store, old);
    expect((await refusal())?.code).toBe('VAULT_ROLLBACK');
  });
});

describe('sv audit --reset (resetAudit)', () => {
  it('after a rollback with the log removed, keeps the old files aside and starts a log every check accepts', async () => {
    const v = await fresh();
    await v.set('a', 'old');
    const oldStore = readFileSync(P().store);
    await v.set('a', 'new');
    writeFileSync(P().store, oldStore);
    rmSync(P().audit);
    expect((await refusal())?.code).toBe('VAULT_AUDIT_BROKEN');
    // A wrong key changes nothing.
    await expect(resetAudit({ password: 'not-it' }, { home: t.home })).rejects.toMatchObject({ code: 'VAULT_BAD_PASSWORD' });
    expect(existsSync(P().auditHead)).toBe(true);

    const reset = await resetAudit({ password: 'pw' }, { home: t.home });
    expect(reset.problem).toMatch(/truncated, emptied or replaced/);
    expect(reset.keptAs).toHaveLength(1); // the head (the log itself was removed)
    expect(readFileSync(reset.keptAs[0]!, 'utf8')).toMatch(/"mac":/);
    const w = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    expect(await w.getString('a')).toBe('old'); // the store as it was found is the one kept
    expect((await w.verify()).ok).toBe(true);
    expect(keyless()).toMatchObject({ ok: true });
    const recs = readAudit(P());
    expect(recs[0]).toMatchObject({ seq: 1, op: 'audit-reset', via: 'local', pid: process.pid });
    expect(recs[0]!.detail).toContain(reset.keptAs[0]);

    // The old history cannot be brought back over the new one: the new head and the store reject it.
    copyFileSync(reset.keptAs[0]!, P().auditHead);
    expect((await refusal())?.code).toMatch(/^VAULT_(AUDIT_BROKEN|ROLLBACK)$/);
  });

  it('refuses to reset an intact log, and leaves it as it was', async () => {
    const v = await fresh();
    await v.set('a', 'x');
    const before = readFileSync(P().audit, 'utf8');
    await expect(resetAudit({ password: 'pw' }, { home: t.home })).rejects.toMatchObject({ code: 'VAULT_BAD_INPUT', message: expect.stringMatching(/intact/) });
    expect(readFileSync(P().audit, 'utf8')).toBe(before);
  });

  it('resets a log with a malformed line (the tail cannot even be read)', async () => {
    const v = await fresh();
    await v.set('a', 'x');
    appendFileSync(P().audit, 'null\n');
    expect((await refusal())?.code).toBe('VAULT_AUDIT_BROKEN');
    const reset = await resetAudit({ password: 'pw' }, { home: t.home });
    expect(reset.keptAs).toHaveLength(2);
    expect(readFileSync(reset.keptAs[0]!, 'utf8')).toContain('null');
    expect(await refusal()).toBeUndefined();
  });
});
