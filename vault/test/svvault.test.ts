import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportBundle, importBundle, importSvVaultFolder } from '../src/bundle.js';
import { VaultError } from '../src/errors.js';
import { initVault, LocalVault } from '../src/store.js';
import { FAST_KDF, runSv, tmpHome } from './helpers.js';

// The other side: an independent implementation of sv-vault's formats (Python cryptography + argon2-cffi).
const REF = fileURLToPath(new URL('./fixtures/sv_vault_ref.py', import.meta.url));
const PY = '/usr/bin/python3';
const hasRef = spawnSync(PY, ['-c', 'import argon2.low_level, cryptography'], { stdio: 'ignore' }).status === 0;

function ref(args: string[], input: string | Uint8Array = ''): Buffer {
  const r = spawnSync(PY, [REF, ...args], { input });
  if (r.status !== 0) throw new Error(`sv_vault_ref.py ${args[0]} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

const THEIRS = {
  'db/password': { value: 'hunter2 \u00e9\u{1f512}', category: 'password', tags: ['prod', 'needs rotation'], note: 'the main db' },
  api_key: { value: 'sk-123', category: 'default', tags: [] },
};

let t: ReturnType<typeof tmpHome>;
let v: LocalVault;
beforeEach(async () => {
  t = tmpHome('pw');
  await initVault({ home: t.home, password: 'pw', kdf: FAST_KDF, shares: null });
  v = await LocalVault.unlock({ password: 'pw' }, { home: t.home });
});
afterEach(() => t.cleanup());

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(() => undefined, (e: unknown) => (e instanceof VaultError ? e.code : `not a VaultError: ${e}`));
}

describe.skipIf(!hasRef)('moving from and to sv-vault', () => {
  it("imports sv-vault's export bundle (context vault-export), labels it cannot take left off and listed", async () => {
    const bundle = ref(['export', 'bundle pw'], JSON.stringify(THEIRS));
    const r = await importBundle(v, bundle, { password: 'bundle pw' });
    expect(r.imported.map((s) => s.name).sort()).toEqual(['api_key', 'db/password']);
    expect(await v.getString('db/password')).toBe(THEIRS['db/password'].value);
    expect(await v.getString('api_key')).toBe('sk-123');
    expect((await v.list()).find((s) => s.name === 'db/password')).toMatchObject({ category: 'password', tags: ['prod'] });
    expect((await v.list()).find((s) => s.name === 'api_key')).toMatchObject({ category: 'general' });
    expect(r.relabeled).toEqual(['db/password']);
    expect(await codeOf(importBundle(v, bundle, { password: 'wrong' }))).toBe('VAULT_DECRYPT');
  });

  it("imports sv-vault's vault folder (vault.key.enc under the password, vault.data under the master key)", async () => {
    const dir = join(t.home, 'sv-vault');
    ref(['make-folder', dir, 'their pw'], JSON.stringify(THEIRS));
    const r = await importSvVaultFolder(v, dir, 'their pw');
    expect(r.imported).toHaveLength(2);
    expect(await v.getString('db/password')).toBe(THEIRS['db/password'].value);
    expect(await codeOf(importSvVaultFolder(v, dir, 'wrong'))).toBe('VAULT_BAD_PASSWORD');
    expect(await codeOf(importSvVaultFolder(v, t.home, 'their pw'))).toBe('VAULT_BAD_INPUT');
    // vault.data swapped for another sv-vault's: refused, nothing imported
    const other = join(t.home, 'other');
    ref(['make-folder', other, 'their pw'], JSON.stringify({ x: { value: 'y' } }));
    writeFileSync(join(dir, 'vault.data'), readFileSync(join(other, 'vault.data')));
    expect(await codeOf(importSvVaultFolder(v, dir, 'their pw', true))).toBe('VAULT_TAMPERED');
  });

  it('refuses a bundle it cannot hold whole, before storing anything', async () => {
    const bundle = ref(['export', 'p'], JSON.stringify({ good: { value: 'v' }, 'bad name': { value: 'v' }, empty: { value: '' } }));
    const e = await importBundle(v, bundle, { password: 'p' }).catch((err: unknown) => err as VaultError);
    expect(e).toBeInstanceOf(VaultError);
    expect(e.code).toBe('VAULT_BAD_INPUT');
    expect(e.message).toMatch(/"bad name" is not a name.*"empty" has an empty value/);
    expect(await v.has('good')).toBe(false);
  });

  it('writes bundles sv-vault imports (its entry fields only), and refuses binary values there', async () => {
    await v.set('db/password', 'hunter2', { tags: ['prod'] });
    await v.set('plain', 'text \u00e9');
    const { blob } = await exportBundle(v, { password: 'bp' });
    expect(blob.subarray(51, 51 + blob.readUInt16BE(49)).toString()).toBe('vault-export');
    const back = JSON.parse(ref(['import', 'bp'], blob).toString()) as Record<string, { value: string; tags: string[] }>;
    expect(back['db/password']).toMatchObject({ value: 'hunter2', tags: ['prod'] });
    expect(back.plain!.value).toBe('text \u00e9');
    await v.set('bin', new Uint8Array([0xff, 0x00, 0xfe]));
    const e = await exportBundle(v, { password: 'bp' }).catch((err: unknown) => err as VaultError);
    expect(e.code).toBe('VAULT_BAD_INPUT');
    expect(e.message).toContain('--format meshpop');
    // sv's own layout keeps bytes, and sv reads it back
    const { blob: mine } = await exportBundle(v, { password: 'bp' }, undefined, 'meshpop');
    await initVault({ home: join(t.home, 'b'), password: 'pw', kdf: FAST_KDF, shares: null });
    const w = await LocalVault.unlock({ password: 'pw' }, { home: join(t.home, 'b') });
    await importBundle(w, mine, { password: 'bp' });
    expect([...(await w.get('bin'))]).toEqual([0xff, 0x00, 0xfe]);
  });

  it('through the CLI: import --from-sv-vault, decrypt-file of a backup, a raw-key blob and vault.data, export for sv-vault', async () => {
    const env = { MESHPOP_HOME: t.home, SV_PASSWORD_FILE: t.pwFile };
    const pw = join(t.home, 'their-pw');
    writeFileSync(pw, 'their pw\n');
    const dir = join(t.home, 'sv-vault');
    ref(['make-folder', dir, 'their pw'], JSON.stringify(THEIRS));
    const imp = await runSv(['import', '--from-sv-vault', dir, '--password-file', pw, '--json'], { env });
    expect(imp.stdout).toContain('"imported"');
    expect(JSON.parse(imp.stdout).imported).toHaveLength(2);

    // a backup: password, context backup:<hash>, no AAD, a name that is not the original's
    const backup = join(t.home, 'secrets_20260314_080000.vault');
    writeFileSync(backup, ref(['backup', 'their pw'], 'backup bytes'));
    const dec = await runSv(['decrypt-file', backup, '--password-file', pw, '--json'], { env });
    expect(JSON.parse(dec.stdout)).toMatchObject({ boundTo: null, context: expect.stringMatching(/^backup:[0-9a-f]{16}$/) });
    expect(readFileSync(join(t.home, 'secrets_20260314_080000'), 'utf8')).toBe('backup bytes');
    // with --name the binding is required: a blob bound to no name is refused
    const strict = await runSv(['decrypt-file', backup, '--password-file', pw, '--name', 'secrets', '-o', join(t.home, 'x')], { env });
    expect(strict.code).toBe(5);

    // vault.data: a raw-key blob (zero salt, context "default"); its key is in vault.key.enc
    const master = join(t.home, 'master.key');
    const km = await runSv(['decrypt-file', join(dir, 'vault.key.enc'), '--password-file', pw, '-o', master, '--json'], { env });
    expect(JSON.parse(km.stdout)).toMatchObject({ context: 'master-key', bytes: 32 });
    const data = await runSv(['decrypt-file', join(dir, 'vault.data'), '--raw-key-file', master, '-o', join(t.home, 'data.json')], { env });
    expect(data.code).toBe(0);
    expect(JSON.parse(readFileSync(join(t.home, 'data.json'), 'utf8'))['db/password'].value).toBe(THEIRS['db/password'].value);

    const out = join(t.home, 'for-sv-vault.svx');
    const exp = await runSv(['export', '-o', out, '--password-file', pw, '--json'], { env });
    expect(JSON.parse(exp.stdout)).toMatchObject({ format: 'sv-vault' });
    expect(Object.keys(JSON.parse(ref(['import', 'their pw'], readFileSync(out)).toString())).sort()).toEqual(['api_key', 'db/password']);
  });

  it('decrypt-file without a password and no terminal names --password-file, not SV_PASSWORD_FILE', async () => {
    const blob = join(t.home, 'notes.txt.vault');
    writeFileSync(blob, ref(['backup', 'p'], 'x'));
    const r = await runSv(['decrypt-file', blob], { env: { MESHPOP_HOME: t.home, SV_PASSWORD_FILE: t.pwFile } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--password-file');
    expect(r.stderr).not.toContain('SV_PASSWORD_FILE');
    expect(existsSync(join(t.home, 'notes.txt'))).toBe(false);
  });
});

