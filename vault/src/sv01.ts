import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, open, seal } from './crypto/aead.js';
import { DEFAULT_KDF, deriveKey } from './crypto/kdf.js';
import { VaultError } from './errors.js';

/**
 * SV01 is sv-vault's blob format, kept byte for byte so blobs move both ways between sv-vault and `sv`:
 *
 *   "SV01" | u8 version=1 | salt[32] | nonce[12] | u16BE ctx_len | ctx | u16BE ts_len | ISO-8601 ts |
 *   u32BE cipher_len | AES-256-GCM ciphertext + 16-byte tag
 *
 * The key is Argon2id(password, salt, t=3, m=64 MiB, p=4), or a raw 32-byte key, marked by an all-zero
 * salt. The header is not authenticated (as in sv-vault); the ciphertext and tag are.
 */

export const SV01_MAGIC = Buffer.from('SV01', 'ascii');
const SALT_BYTES = 32;
const FIXED = 4 + 1 + SALT_BYTES + NONCE_BYTES;

/** Sv01Blob is a decoded SV01 blob. */
export interface Sv01Blob {
  salt: Uint8Array;
  nonce: Uint8Array;
  context: string;
  createdAt: string;
  ciphertext: Uint8Array;
}

/** Sv01Key is what unlocks a blob: a password (through Argon2id) or a raw 32-byte key. */
export type Sv01Key = { password: string | Uint8Array } | { rawKey: Uint8Array };

function badBlob(why: string): VaultError {
  return new VaultError('VAULT_BAD_BLOB', `not a valid SV01 blob: ${why}.`);
}

/** pythonIsoNow is the time as Python's datetime.now(timezone.utc).isoformat() writes it. */
function pythonIsoNow(): string {
  const d = new Date();
  return d.toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}000+00:00`);
}

/** encodeSv01 lays a blob out in bytes. */
export function encodeSv01(b: Sv01Blob): Buffer {
  const ctx = Buffer.from(b.context, 'utf8');
  const ts = Buffer.from(b.createdAt, 'utf8');
  if (b.salt.length !== SALT_BYTES || b.nonce.length !== NONCE_BYTES) throw badBlob('salt or nonce of the wrong size');
  if (ctx.length > 0xffff || ts.length > 0xffff) throw badBlob('context or timestamp longer than 65535 bytes');
  const lens = (n: number, bytes: 2 | 4): Buffer => {
    const out = Buffer.alloc(bytes);
    if (bytes === 2) out.writeUInt16BE(n); else out.writeUInt32BE(n);
    return out;
  };
  return Buffer.concat([SV01_MAGIC, Buffer.from([1]), b.salt, b.nonce, lens(ctx.length, 2), ctx, lens(ts.length, 2), ts, lens(b.ciphertext.length, 4), b.ciphertext]);
}

/** decodeSv01 parses a blob, checking every length against what is there before reading it. */
export function decodeSv01(data: Uint8Array): Sv01Blob {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < FIXED + 2 + 2 + 4 || !buf.subarray(0, 4).equals(SV01_MAGIC)) throw badBlob('it does not start with SV01');
  if (buf[4] !== 1) throw badBlob(`version ${buf[4]} is not supported (only 1)`);
  let pos = 5;
  const take = (n: number, what: string): Buffer => {
    if (pos + n > buf.length) throw badBlob(`truncated in the ${what}`);
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const salt = take(SALT_BYTES, 'salt');
  const nonce = take(NONCE_BYTES, 'nonce');
  const context = take(take(2, 'context length').readUInt16BE(), 'context').toString('utf8');
  const createdAt = take(take(2, 'timestamp length').readUInt16BE(), 'timestamp').toString('utf8');
  const cipherLen = take(4, 'ciphertext length').readUInt32BE();
  const ciphertext = take(cipherLen, 'ciphertext');
  if (pos !== buf.length) throw badBlob(`${buf.length - pos} stray bytes after the ciphertext`);
  if (cipherLen < TAG_BYTES) throw badBlob('ciphertext shorter than its tag');
  return { salt: new Uint8Array(salt), nonce: new Uint8Array(nonce), context, createdAt, ciphertext: new Uint8Array(ciphertext) };
}

async function keyFor(k: Sv01Key, salt: Uint8Array): Promise<Uint8Array> {
  if ('rawKey' in k) {
    if (k.rawKey.length !== KEY_BYTES) throw new VaultError('VAULT_BAD_INPUT', `a raw key must be ${KEY_BYTES} bytes, not ${k.rawKey.length}.`);
    return k.rawKey;
  }
  const pw = typeof k.password === 'string' ? Buffer.from(k.password, 'utf8') : k.password;
  return deriveKey(pw, salt, DEFAULT_KDF);
}

/** encryptSv01 seals `data` into an SV01 blob. */
export async function encryptSv01(data: Uint8Array, key: Sv01Key, opts: { context?: string; aad?: Uint8Array } = {}): Promise<Buffer> {
  const salt = 'rawKey' in key ? new Uint8Array(SALT_BYTES) : new Uint8Array(randomBytes(SALT_BYTES));
  const sealed = seal(await keyFor(key, salt), data, opts.aad);
  return encodeSv01({ salt, nonce: sealed.nonce, context: opts.context ?? 'default', createdAt: pythonIsoNow(), ciphertext: sealed.ciphertext });
}

/**
 * decryptSv01 opens an SV01 blob, or fails with VAULT_DECRYPT (wrong password or key, wrong name, or damage).
 * `aad` is the associated data it was sealed with, or a list of candidates tried in order after one key
 * derivation (sv-vault binds a file's name, but none for its exports, backups and vault data); `bound` is
 * the index of the one that held.
 */
export async function decryptSv01(
  data: Uint8Array,
  key: Sv01Key,
  aad?: Uint8Array | (Uint8Array | undefined)[],
): Promise<{ plaintext: Uint8Array; blob: Sv01Blob; bound: number }> {
  const blob = decodeSv01(data);
  if ('password' in key && blob.salt.every((b) => b === 0)) {
    throw new VaultError('VAULT_DECRYPT', 'this blob was sealed with a raw key (its salt is all zero), not a password; pass the key with --raw-key-file.');
  }
  const k = await keyFor(key, blob.salt);
  const candidates = Array.isArray(aad) ? aad : [aad];
  for (let i = 0; i < candidates.length; i++) {
    const plaintext = open(k, blob.nonce, blob.ciphertext, candidates[i]);
    if (plaintext) return { plaintext, blob, bound: i };
  }
  throw new VaultError('VAULT_DECRYPT', 'cannot decrypt: wrong password or key, a different original file name, or the blob was changed. Nothing was written.');
}

/** fileAad is what sv-vault binds an encrypted file to: the SHA-256 of its base name. */
export function fileAad(path: string): Uint8Array {
  return sha256(Buffer.from(basename(path), 'utf8'));
}
