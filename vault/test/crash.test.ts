import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAudit } from '../src/audit.js';
import { sha256Hex } from '../src/crypto/keys.js';
import { VaultError } from '../src/errors.js';
import { vaultPaths } from '../src/paths.js';
import { initVault, LocalVault } from '../src/store.js';
import { FAST_KDF, runNode, tmpHome } from './helpers.js';

/**
 * A real kill -9 at the worst moment of a write: a preload module wraps fs.renameSync so that the process
 * SIGKILLs itself right before (`before`) or right after (`after`) the store's temp file is renamed over
 * store.sv, the moments between the store's write and its audit record.
 */
const KILLER = `
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const when = process.env.SV_TEST_KILL;
const rename = fs.renameSync;
fs.renameSync = (from, to) => {
  const store = String(to).endsWith('/store.sv');
  if (store && when === 'before') process.kill(process.pid, 'SIGKILL');
  rename(from, to);
  if (store && when === 'after') process.kill(process.pid, 'SIGKILL');
};
syncBuiltinESMExports();
`;

let t: ReturnType<typeof tmpHome>;
let killer: string;
beforeEach(async () => {
  t = tmpHome();
  killer = join(t.home, 'killer.mjs');
  writeFileSync(killer, KILLER);
  await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
});
afterEach(() => t.cleanup());

const lib = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);

/** killedDuring runs `body` (with `v`, the open vault) in a child that is SIGKILLed at `when` of its store write. */
async function killedDuring(when: 'before' | 'after', body: string, password = 'pw'): Promise<number> {
  const r = await runNode(['--import', killer, '--input-type=module', '-e', `
    const { LocalVault } = await import(${lib});
    const v = await LocalVault.unlock({ password: ${JSON.stringify(password)} }, { home: ${JSON.stringify(t.home)} });
    ${body}`], { env: { SV_TEST_KILL: when } });
  return r.code;
}

const temps = (): string[] => readdirSync(vaultPaths(t.home).dir).filter((f) => f.includes('.tmp-'));

describe('a write killed between the store and its audit line', () => {
  it('is recorded at the next open from the record the store carries, and the log verifies', async () => {
    const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    await v.set('a', 'old');
    expect(await killedDuring('after', "await v.set('a', 'new');")).not.toBe(0);
    // The kill came right after the rename: the store holds the write, the log does not yet.
    expect(readAudit(vaultPaths(t.home)).map((r) => r.op)).toEqual(['init', 'set']);
    const w = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    expect(await w.getString('a')).toBe('new');
    const recs = readAudit(vaultPaths(t.home));
    expect(recs.map((r) => [r.op, r.gen])).toEqual([['init', 1], ['set', 2], ['set', 3], ['get', 3]]);
    expect(recs[2]).toMatchObject({ names: ['a'], via: 'local' });
    expect((await w.verify()).generation).toBe(3);
  });

  it('is recorded the same way when the killed write was a rekey (the record is MACed with the new key)', async () => {
    const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    await v.set('a', 'kept');
    expect(await killedDuring('after', "await v.rekey({ password: 'pw2', shares: null });")).not.toBe(0);
    const w = await LocalVault.unlock({ password: 'pw2' }, { home: t.home });
    expect(await w.getString('a')).toBe('kept');
    expect(readAudit(vaultPaths(t.home)).map((r) => r.op)).toEqual(['init', 'set', 'rekey', 'get']);
    await w.verify();
  });
});

describe('temp files of killed writes', () => {
  it('are removed at the next open, and passwd and rekey leave no copy the old password opens', async () => {
    const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    await v.set('a', 'value');
    // Each killed write leaves its temp file; the next one's open removes it, so they never pile up.
    for (let i = 0; i < 5; i++) {
      expect(await killedDuring('before', `await v.set('b${i}', 'x');`)).not.toBe(0);
      expect(temps()).toHaveLength(1);
    }
    await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    expect(temps()).toEqual([]);

    expect(await killedDuring('before', "await v.set('c', 'x');")).not.toBe(0);
    expect(temps()).toHaveLength(1);
    await v.changePassword('new pw', FAST_KDF);
    expect(temps()).toEqual([]);
    // No copy of a store is left in the folder but store.sv itself, whose slot the old password no longer opens.
    const dir = vaultPaths(t.home).dir;
    expect(readdirSync(dir).filter((f) => readFileSync(join(dir, f), 'utf8').startsWith('meshpop-vault 1'))).toEqual(['store.sv']);
    await expectCode(LocalVault.unlock({ password: 'pw' }, { home: t.home }), 'VAULT_BAD_PASSWORD');
    expect(await (await LocalVault.unlock({ password: 'new pw' }, { home: t.home })).getString('a')).toBe('value');

    expect(await killedDuring('before', "await v.set('d', 'x');", 'new pw')).not.toBe(0);
    expect(temps()).toHaveLength(1);
    await (await LocalVault.unlock({ password: 'new pw' }, { home: t.home })).rekey({ password: 'newer', shares: null });
    expect(temps()).toEqual([]);
  });
});

describe('edited Argon2id parameters', () => {
  /** setKdf rewrites the password slot's parameters and fixes the checksum line, as the review did. */
  function setKdf(kdf: Record<string, number>): void {
    const file = vaultPaths(t.home).store;
    const lines = readFileSync(file, 'utf8').slice(0, -1).split('\n');
    const header = JSON.parse(lines[1]!);
    header.slots[0].kdf = { ...header.slots[0].kdf, ...kdf };
    const body = [lines[0], JSON.stringify(header), ...lines.slice(2, -2)];
    const content = body.join('\n') + '\n';
    writeFileSync(file, content + `sha256 ${sha256Hex(content)}\n` + lines[lines.length - 1] + '\n');
  }

  it('out of bounds are "tampered", refused before Argon2id runs', async () => {
    for (const kdf of [{ iterations: 60 }, { memoryKiB: 4 * 1024 * 1024, iterations: 1000 }, { memoryKiB: 2 * 1024 * 1024, iterations: 2 }, { parallelism: 200 }]) {
      const good = readFileSync(vaultPaths(t.home).store);
      setKdf(kdf);
      const started = Date.now();
      const e = await expectCode(LocalVault.unlock({ password: 'pw' }, { home: t.home }), 'VAULT_TAMPERED');
      expect(Date.now() - started, JSON.stringify(kdf)).toBeLessThan(500);
      expect(e.message).toMatch(/Argon2id parameters sv never writes/);
      writeFileSync(vaultPaths(t.home).store, good);
    }
  });

  it('within bounds cannot unlock (the key is derived from them), and passwd refuses to write any beyond them', async () => {
    setKdf({ iterations: 2 });
    await expectCode(LocalVault.unlock({ password: 'pw' }, { home: t.home }), 'VAULT_BAD_PASSWORD');
    await expectCode(initVault({ home: join(t.home, 'other'), password: 'pw', kdf: { ...FAST_KDF, iterations: 11 }, shares: null }), 'VAULT_BAD_INPUT');
  });
});

async function expectCode(p: Promise<unknown>, code: string): Promise<VaultError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(VaultError);
  expect((err as VaultError).code).toBe(code);
  return err as VaultError;
}
