import argon2 from 'argon2';
import { VaultError } from '../errors.js';

/** KdfParams are the Argon2id parameters, kept in the store header so they can be raised later. */
export interface KdfParams {
  algorithm: 'argon2id';
  /** memory in KiB */
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** DEFAULT_KDF is m=64 MiB, t=3, p=4: the vault's default and the SV01 blob's fixed parameters. */
export const DEFAULT_KDF: Readonly<KdfParams> = Object.freeze({
  algorithm: 'argon2id',
  memoryKiB: 65536,
  iterations: 3,
  parallelism: 4,
});

/** checkKdfParams throws VAULT_BAD_INPUT unless `p` are parameters Argon2id accepts. */
export function checkKdfParams(p: KdfParams): KdfParams {
  const ok =
    p.algorithm === 'argon2id' &&
    Number.isInteger(p.parallelism) && p.parallelism >= 1 && p.parallelism <= 255 &&
    Number.isInteger(p.iterations) && p.iterations >= 1 && p.iterations <= 1000 &&
    Number.isInteger(p.memoryKiB) && p.memoryKiB >= 8 * p.parallelism && p.memoryKiB <= 4 * 1024 * 1024;
  if (!ok) {
    throw new VaultError(
      'VAULT_BAD_INPUT',
      `Argon2id parameters out of range (memory ${p.memoryKiB} KiB, iterations ${p.iterations}, parallelism ${p.parallelism}): ` +
        'memory must be at least 8 KiB per lane and at most 4 GiB, iterations 1-1000, parallelism 1-255',
    );
  }
  return p;
}

/**
 * deriveKey runs Argon2id (version 0x13) over `password` and `salt` and returns a 32-byte key.
 * `extra` carries RFC 9106's optional secret K and associated data X (the vault itself uses neither).
 */
export async function deriveKey(password: Uint8Array, salt: Uint8Array, params: KdfParams, extra: { secret?: Uint8Array; associatedData?: Uint8Array } = {}): Promise<Uint8Array> {
  checkKdfParams(params);
  const raw = await argon2.hash(Buffer.from(password), {
    ...(extra.secret ? { secret: Buffer.from(extra.secret) } : {}),
    ...(extra.associatedData ? { associatedData: Buffer.from(extra.associatedData) } : {}),
    type: argon2.argon2id,
    raw: true,
    salt: Buffer.from(salt),
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    hashLength: 32,
    version: 0x13,
  });
  return new Uint8Array(raw);
}
