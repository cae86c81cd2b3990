import { gcm } from '@noble/ciphers/aes.js';
import { randomBytes } from 'node:crypto';

/** NONCE_BYTES is the AES-GCM nonce size: 96 bits, fresh from the CSPRNG for every seal. */
export const NONCE_BYTES = 12;
/** TAG_BYTES is the AES-GCM tag size appended to every ciphertext. */
export const TAG_BYTES = 16;
/** KEY_BYTES is the AES-256 key size. */
export const KEY_BYTES = 32;

/** Sealed is a ciphertext (with its 16-byte tag appended) and the nonce it was sealed under. */
export interface Sealed {
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

/** seal encrypts `plaintext` with AES-256-GCM under `key` and a fresh random nonce. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Sealed {
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  return { nonce, ciphertext: gcm(key, nonce, aad).encrypt(plaintext) };
}

/**
 * open decrypts an AES-256-GCM ciphertext, or returns undefined when the tag does not verify
 * (wrong key, wrong associated data, or any changed byte). It never returns unauthenticated data.
 */
export function open(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array | undefined {
  if (nonce.length !== NONCE_BYTES || ciphertext.length < TAG_BYTES) return undefined;
  try {
    return gcm(key, nonce, aad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}
