import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VaultError } from '../src/errors.js';
import { decodeSv01, decryptSv01, encodeSv01, encryptSv01, fileAad } from '../src/sv01.js';

const REF = fileURLToPath(new URL('./fixtures/sv01_ref.py', import.meta.url));
const PY = '/usr/bin/python3';
const hasRef = spawnSync(PY, ['-c', 'import argon2.low_level, cryptography'], { stdio: 'ignore' }).status === 0;

function ref(args: string[], input: Uint8Array): Buffer {
  const r = spawnSync(PY, [REF, ...args], { input });
  if (r.status !== 0) throw new Error(`sv01_ref.py ${args[0]} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(() => undefined, (e: unknown) => (e instanceof VaultError ? e.code : `not a VaultError: ${e}`));
}

const text = new TextEncoder().encode('backup contents \u00e9\u00e8 \u{1f512}');
const rawKey = new Uint8Array(32).map((_, i) => 255 - i);

describe('SV01 blobs', () => {
  it('lays out the header exactly as the format says', async () => {
    const blob = await encryptSv01(text, { rawKey }, { context: 'memo' });
    expect(blob.subarray(0, 4).toString()).toBe('SV01');
    expect(blob[4]).toBe(1);
    expect(blob.subarray(5, 37).every((b) => b === 0)).toBe(true); // raw key: zero salt
    expect(blob.readUInt16BE(49)).toBe(4);
    expect(blob.subarray(51, 55).toString()).toBe('memo');
    const tsLen = blob.readUInt16BE(55);
    const ts = blob.subarray(57, 57 + tsLen).toString();
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(blob.readUInt32BE(57 + tsLen)).toBe(text.length + 16);
    expect(blob.length).toBe(57 + tsLen + 4 + text.length + 16);
    expect(encodeSv01(decodeSv01(blob)).equals(blob)).toBe(true);
  });

  it('round-trips with a password and with a raw key, and binds the file name', async () => {
    const aad = fileAad('/some/dir/backup.tar');
    expect(Buffer.from(aad).toString('hex')).toBe(createHash('sha256').update('backup.tar').digest('hex'));
    const blob = await encryptSv01(text, { password: 'pw' }, { aad });
    expect(Buffer.from((await decryptSv01(blob, { password: 'pw' }, fileAad('backup.tar'))).plaintext)).toEqual(Buffer.from(text));
    expect(await codeOf(decryptSv01(blob, { password: 'wrong' }, aad))).toBe('VAULT_DECRYPT');
    expect(await codeOf(decryptSv01(blob, { password: 'pw' }, fileAad('other.tar')))).toBe('VAULT_DECRYPT');
    const raw = await encryptSv01(text, { rawKey });
    expect(Buffer.from((await decryptSv01(raw, { rawKey })).plaintext)).toEqual(Buffer.from(text));
    expect(await codeOf(decryptSv01(raw, { password: 'pw' }))).toBe('VAULT_DECRYPT');
  });

  it('tries several bindings after one key derivation, and says which one held', async () => {
    const bound = await encryptSv01(text, { password: 'pw' }, { aad: fileAad('a.txt') });
    const unbound = await encryptSv01(text, { password: 'pw' }, { context: 'vault-export' });
    const both = [fileAad('a.txt'), undefined];
    expect((await decryptSv01(bound, { password: 'pw' }, both)).bound).toBe(0);
    expect((await decryptSv01(unbound, { password: 'pw' }, both)).bound).toBe(1);
    // a binding that is asked for alone is insisted on
    expect(await codeOf(decryptSv01(unbound, { password: 'pw' }, [fileAad('a.txt')]))).toBe('VAULT_DECRYPT');
    expect(await codeOf(decryptSv01(bound, { password: 'pw' }, [fileAad('b.txt'), undefined]))).toBe('VAULT_DECRYPT');
  });

  it('refuses truncated, padded and garbage blobs with VAULT_BAD_BLOB', async () => {
    const blob = await encryptSv01(text, { rawKey });
    for (let n = 0; n < blob.length; n++) {
      const err = await decryptSv01(blob.subarray(0, n), { rawKey }).then(() => undefined, (e: unknown) => e);
      expect(err, `truncated to ${n}`).toBeInstanceOf(VaultError);
      expect(['VAULT_BAD_BLOB', 'VAULT_DECRYPT']).toContain((err as VaultError).code);
    }
    expect(await codeOf(decryptSv01(Buffer.concat([blob, Buffer.from([0])]), { rawKey }))).toBe('VAULT_BAD_BLOB');
    expect(await codeOf(decryptSv01(Buffer.from('PK\x03\x04 not a blob at all, really not'), { rawKey }))).toBe('VAULT_BAD_BLOB');
    const v2 = Buffer.from(blob);
    v2[4] = 2;
    expect(await codeOf(decryptSv01(v2, { rawKey }))).toBe('VAULT_BAD_BLOB');
    const huge = Buffer.from(blob);
    huge.writeUInt32BE(0xffffffff, huge.length - text.length - 16 - 4);
    expect(await codeOf(decryptSv01(huge, { rawKey }))).toBe('VAULT_BAD_BLOB');
  });

  it.skipIf(!hasRef)('moves both ways between sv and an independent implementation (Python cryptography + argon2-cffi)', async () => {
    const aad = fileAad('notes.txt');
    const aadHex = Buffer.from(aad).toString('hex');
    // theirs -> ours, password and raw key
    const theirs = ref(['encrypt', 'pass word', '-', aadHex, 'file'], text);
    const mine = await decryptSv01(theirs, { password: 'pass word' }, aad);
    expect(Buffer.from(mine.plaintext)).toEqual(Buffer.from(text));
    expect(mine.blob.context).toBe('file');
    const theirsRaw = ref(['encrypt', '-', Buffer.from(rawKey).toString('hex'), '-', 'secret'], text);
    expect(Buffer.from((await decryptSv01(theirsRaw, { rawKey })).plaintext)).toEqual(Buffer.from(text));
    // ours -> theirs
    const ours = await encryptSv01(text, { password: 'pass word' }, { context: 'file', aad });
    expect(ref(['decrypt', 'pass word', '-', aadHex], ours)).toEqual(Buffer.from(text));
    const oursRaw = await encryptSv01(text, { rawKey });
    expect(ref(['decrypt', '-', Buffer.from(rawKey).toString('hex'), '-'], oursRaw)).toEqual(Buffer.from(text));
  });
});
