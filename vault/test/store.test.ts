import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/crypto/keys.js';
import { VaultError } from '../src/errors.js';
import { initVault, LocalVault } from '../src/store.js';
import { vaultPaths } from '../src/paths.js';
import { FAST_KDF, tmpHome } from './helpers.js';

/** expectCode asserts that `p` rejects with a VaultError of `code`. */
async function expectCode(p: Promise<unknown>, code: string): Promise<VaultError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(VaultError);
  expect((err as VaultError).code).toBe(code);
  return err as VaultError;
}

/** rewriteStore edits a store's lines and recomputes its checksum, as a careful attacker would. */
function rewriteStore(file: string, edit: (lines: string[]) => string[]): void {
  const lines = readFileSync(file, 'utf8').slice(0, -1).split('\n');
  const body = edit(lines.slice(0, -2));
  const content = body.join('\n') + '\n';
  writeFileSync(file, content + `sha256 ${sha256Hex(content)}\n` + lines[lines.length - 1] + '\n');
}

let t: ReturnType<typeof tmpHome>;
beforeEach(() => {
  t = tmpHome();
});
afterEach(() => t.cleanup());

async function fresh(): Promise<LocalVault> {
  await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
  return LocalVault.unlock({ password: 'pw' }, { home: t.home });
}

describe('the store', () => {
  it('keeps secrets, versions and metadata, and never keeps a value in the clear', async () => {
    const v = await fresh();
    const a = await v.set('vssh/master', 'first value', { tags: ['mesh'] });
    expect(a).toMatchObject({ name: 'vssh/master', version: 1, category: 'vssh', tags: ['mesh'] });
    const b = await v.set('vssh/master', 'second value');
    expect(b.version).toBe(2);
    expect(b.tags).toEqual(['mesh']);
    expect(b.created).toBe(a.created);
    await v.set('plain', new Uint8Array([0, 255, 1]));
    expect(await v.getString('vssh/master')).toBe('second value');
    expect([...(await v.get('plain'))]).toEqual([0, 255, 1]);
    expect((await v.list()).map((s) => s.name)).toEqual(['plain', 'vssh/master']);
    const raw = readFileSync(vaultPaths(t.home).store, 'utf8');
    expect(raw).not.toContain('second value');
    expect(raw).not.toContain(Buffer.from('second value').toString('base64'));
    await v.remove('plain');
    await expectCode(v.get('plain'), 'VAULT_NOT_FOUND');
    await expectCode(v.remove('plain'), 'VAULT_NOT_FOUND');
  });

  it('writes its files with mode 0600 in a 0700 folder', async () => {
    const v = await fresh();
    await v.set('a', 'b');
    const p = vaultPaths(t.home);
    expect(statSync(p.dir).mode & 0o777).toBe(0o700);
    expect(statSync(p.store).mode & 0o777).toBe(0o600);
    expect(statSync(p.audit).mode & 0o777).toBe(0o600);
  });

  it('refuses a second init and leaves the first vault as it was', async () => {
    const v = await fresh();
    await v.set('keep', 'me');
    const before = readFileSync(vaultPaths(t.home).store);
    await expectCode(initVault({ home: t.home, password: 'other', kdf: FAST_KDF, shares: null }), 'VAULT_EXISTS');
    expect(readFileSync(vaultPaths(t.home).store).equals(before)).toBe(true);
  });

  it('says so when there is no vault', async () => {
    const e = await expectCode(LocalVault.unlock({ password: 'pw' }, { home: t.home }), 'VAULT_NOT_INITIALIZED');
    expect(e.message).toContain('sv init');
  });

  it('refuses a wrong password without changing anything', async () => {
    const v = await fresh();
    await v.set('a', 'b');
    const before = readFileSync(vaultPaths(t.home).store);
    const e = await expectCode(LocalVault.unlock({ password: 'wrong' }, { home: t.home }), 'VAULT_BAD_PASSWORD');
    expect(e.message).toMatch(/wrong password.*sv recover/);
    expect(readFileSync(vaultPaths(t.home).store).equals(before)).toBe(true);
  });

  it('refuses bad names and empty values with a message that says what a name is', async () => {
    const v = await fresh();
    for (const bad of ['', '../etc', 'a//b', 'a/../b', '/abs', 'sp ace', 'x'.repeat(201)]) {
      const e = await expectCode(v.set(bad, 'v'), 'VAULT_BAD_NAME');
      expect(e.message).toContain('segments separated by /');
    }
    await expectCode(v.set('ok', ''), 'VAULT_BAD_INPUT');
    await expectCode(v.set('ok', 'v', { category: 'has space' }), 'VAULT_BAD_INPUT');
    await expectCode(v.set('ok', 'v', { tags: ['fine', 'x'.repeat(65)] }), 'VAULT_BAD_INPUT');
    await expectCode(v.set('ok', 'v', { tags: 'not-a-list' as unknown as string[] }), 'VAULT_BAD_INPUT');
    expect(await v.has('ok')).toBe(false);
  });

  it('unlocks with a key file, and refuses another file', async () => {
    const keyFile = join(t.home, 'vault.key');
    const r = await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null, keyFile });
    expect(r.keyFile).toEqual({ path: keyFile, created: true });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const v = await LocalVault.unlock({ keyFile }, { home: t.home });
    await v.set('x', 'y');
    const other = join(t.home, 'other.key');
    writeFileSync(other, 'f'.repeat(64));
    await expectCode(LocalVault.unlock({ keyFile: other }, { home: t.home }), 'VAULT_BAD_KEY_FILE');
    writeFileSync(other, 'short');
    await expectCode(LocalVault.unlock({ keyFile: other }, { home: t.home }), 'VAULT_BAD_KEY_FILE');
  });

  it('changes the password, and can raise the Argon2id parameters', async () => {
    const v = await fresh();
    await v.set('a', 'b');
    await v.changePassword('new pw', { ...FAST_KDF, memoryKiB: 128, iterations: 2 });
    await expectCode(LocalVault.unlock({ password: 'pw' }, { home: t.home }), 'VAULT_BAD_PASSWORD');
    const w = await LocalVault.unlock({ password: 'new pw' }, { home: t.home });
    expect(await w.getString('a')).toBe('b');
    const header = JSON.parse(readFileSync(vaultPaths(t.home).store, 'utf8').split('\n')[1]!);
    expect(header.slots[0].kdf).toMatchObject({ memoryKiB: 128, iterations: 2 });
  });

  it('rekey re-encrypts every secret under a new master key', async () => {
    const v = await fresh();
    await v.set('a', 'alpha');
    await v.set('b', 'beta');
    const before = readFileSync(vaultPaths(t.home).store, 'utf8');
    const r = await v.rekey({ password: 'pw', shares: { count: 3, threshold: 2 } });
    expect(r.shares).toHaveLength(3);
    const after = readFileSync(vaultPaths(t.home).store, 'utf8');
    const cts = (s: string): string[] => s.split('\n').slice(2, 4).map((l) => JSON.parse(l).ciphertext);
    expect(cts(after)).not.toEqual(cts(before));
    expect(await v.getString('a')).toBe('alpha');
    const w = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    expect(await w.getString('b')).toBe('beta');
  });
});

describe('damage and tampering', () => {
  it('refuses every flipped byte and every flipped bit of a store', async () => {
    const v = await fresh();
    await v.set('db/password', 'hunter2', { tags: ['prod'] });
    await v.set('vssh/master', 'k'.repeat(32));
    const file = vaultPaths(t.home).store;
    const good = readFileSync(file);
    let refused = 0;
    for (let i = 0; i < good.length; i++) {
      for (const mask of [0xff, 0x01]) {
        const bad = Buffer.from(good);
        bad[i]! ^= mask;
        writeFileSync(file, bad);
        const err = await LocalVault.unlock({ password: 'pw' }, { home: t.home })
          .then((w) => w.getMany())
          .then(() => undefined, (e: unknown) => e);
        expect(err, `flip 0x${mask.toString(16)} at byte ${i} was accepted`).toBeInstanceOf(VaultError);
        expect(['VAULT_CORRUPT', 'VAULT_TAMPERED', 'VAULT_BAD_PASSWORD']).toContain((err as VaultError).code);
        refused++;
      }
    }
    expect(refused).toBe(good.length * 2);
    writeFileSync(file, good);
    expect(await (await LocalVault.unlock({ password: 'pw' }, { home: t.home })).getString('db/password')).toBe('hunter2');
  });

  it('refuses a truncated store at every length', async () => {
    const v = await fresh();
    await v.set('a', 'value');
    const file = vaultPaths(t.home).store;
    const good = readFileSync(file);
    for (let n = 0; n < good.length; n++) {
      writeFileSync(file, good.subarray(0, n));
      const e = await expectCode(LocalVault.unlock({ password: 'pw' }, { home: t.home }), 'VAULT_CORRUPT');
      expect(e.message).toContain('restore it from a backup');
    }
  });

  it('catches an edited value, a deleted entry and swapped ciphertexts even with a recomputed checksum', async () => {
    const v = await fresh();
    await v.set('a', 'alpha');
    await v.set('b', 'beta');
    const file = vaultPaths(t.home).store;
    const good = readFileSync(file);
    const attacks: [string, (lines: string[]) => string[]][] = [
      ['deleted entry', (l) => [l[0]!, l[1]!, l[3]!]],
      ['swapped ciphertexts', (l) => {
        const a = JSON.parse(l[2]!);
        const b = JSON.parse(l[3]!);
        return [l[0]!, l[1]!, JSON.stringify({ ...a, nonce: b.nonce, ciphertext: b.ciphertext }), JSON.stringify({ ...b, nonce: a.nonce, ciphertext: a.ciphertext })];
      }],
      ['renamed entry', (l) => [l[0]!, l[1]!, l[2]!.replace('"name":"b"', '"name":"c"')]],
      ['raised generation', (l) => [l[0]!, l[1]!.replace(/"generation":\d+/, '"generation":99'), l[2]!, l[3]!]],
      ['changed tag', (l) => [l[0]!, l[1]!, l[2]!.replace('"tags":[]', '"tags":["x"]'), l[3]!]],
    ];
    for (const [what, edit] of attacks) {
      writeFileSync(file, good);
      rewriteStore(file, edit);
      const err = await LocalVault.unlock({ password: 'pw' }, { home: t.home }).then(() => undefined, (e: unknown) => e);
      expect(err, what).toBeInstanceOf(VaultError);
      expect((err as VaultError).code, what).toBe('VAULT_TAMPERED');
    }
  });

  it('catches a rolled-back store through the audit log', async () => {
    const v = await fresh();
    await v.set('a', 'old');
    const file = vaultPaths(t.home).store;
    const old = join(t.home, 'old-store');
    copyFileSync(file, old);
    await v.set('a', 'new');
    copyFileSync(old, file);
    const e = await expectCode(LocalVault.unlock({ password: 'pw' }, { home: t.home }), 'VAULT_ROLLBACK');
    expect(e.message).toMatch(/generation 2 .* generation 3/);
  });
});

describe('writers', () => {
  it('two processes writing at once lose nothing', async () => {
    await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
    const { runNode } = await import('./helpers.js');
    const script = (tag: string): string => `
      const { LocalVault } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const v = await LocalVault.unlock({ password: 'pw' }, { home: ${JSON.stringify(t.home)} });
      for (let i = 0; i < 25; i++) await v.set('w${tag}/' + i, 'value ${tag} ' + i);`;
    const runs = await Promise.all(['a', 'b'].map((tag) => runNode(['--input-type=module', '-e', script(tag)])));
    for (const r of runs) expect(r.stderr).toBe('');
    const v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
    const names = (await v.list()).map((s) => s.name);
    expect(names).toHaveLength(50);
    expect(await v.getString('wb/24')).toBe('value b 24');
    const report = await v.verify();
    expect(report.generation).toBe(51);
    expect(readdirSync(vaultPaths(t.home).dir).filter((f) => f.includes('.tmp-') || f.endsWith('.lock'))).toEqual([]);
  });

  it('unlocking while another process writes is not taken for a rollback', async () => {
    await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
    const { runNode } = await import('./helpers.js');
    const lib = JSON.stringify(new URL('../dist/index.js', import.meta.url).href);
    const home = JSON.stringify(t.home);
    const writer = runNode(['--input-type=module', '-e', `
      const { LocalVault } = await import(${lib});
      const v = await LocalVault.unlock({ password: 'pw' }, { home: ${home} });
      for (let i = 0; i < 60; i++) await v.set('w/' + i, 'x');`]);
    const reader = runNode(['--input-type=module', '-e', `
      const { LocalVault } = await import(${lib});
      for (let i = 0; i < 60; i++) await (await LocalVault.unlock({ password: 'pw' }, { home: ${home} })).list();`]);
    const runs = await Promise.all([writer, reader]);
    for (const r of runs) expect(r.stderr).toBe('');
  });

  it('takes over a lock left by a dead process', async () => {
    const v = await fresh();
    writeFileSync(vaultPaths(t.home).lock, '999999999\n');
    await v.set('a', 'b');
    expect(existsSync(vaultPaths(t.home).lock)).toBe(false);
    // a lock file that never got its pid (a crash right after creating it), once it is old
    writeFileSync(vaultPaths(t.home).lock, '');
    utimesSync(vaultPaths(t.home).lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await v.set('a', 'c');
    expect(await v.getString('a')).toBe('c');
  });

  it('waits for a live lock holder and then says who holds it', async () => {
    const v = await fresh();
    const { withLock } = await import('../src/lock.js');
    writeFileSync(vaultPaths(t.home).lock, `${process.pid}\n`);
    const e = await expectCode(withLock(vaultPaths(t.home).lock, () => 1, 300), 'VAULT_BUSY');
    expect(e.message).toContain(`pid ${process.pid}`);
    expect(existsSync(vaultPaths(t.home).lock)).toBe(true);
    await v.close();
  });
});
