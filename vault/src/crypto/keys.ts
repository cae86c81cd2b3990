import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { timingSafeEqual } from 'node:crypto';

const utf8 = new TextEncoder();

/** subkey derives a 32-byte key for one purpose from the master key (HKDF-SHA256). */
export function subkey(master: Uint8Array, purpose: string): Uint8Array {
  return hkdf(sha256, master, undefined, utf8.encode(`meshpop-vault/1 ${purpose}`), 32);
}

/** keyId is a short public fingerprint of a master key: it tells shares of one key from another's. */
export function keyId(master: Uint8Array): string {
  return Buffer.from(hmac(sha256, master, utf8.encode('meshpop-vault/1 key-id')).subarray(0, 4)).toString('hex');
}

/** mac is HMAC-SHA256 of `data` under `key`. */
export function mac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(sha256, key, data);
}

/** sameBytes compares two byte strings in constant time (for equal lengths). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** sha256Hex is the hex SHA-256 of `data`. */
export function sha256Hex(data: Uint8Array | string): string {
  return Buffer.from(sha256(typeof data === 'string' ? utf8.encode(data) : data)).toString('hex');
}
