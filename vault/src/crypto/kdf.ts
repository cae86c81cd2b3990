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

/**
 * KDF_LIMITS bound what an unlock can cost: at most 2 GiB of memory, 10 passes, 16 lanes, and
 * memory x passes at most 2 GiB (about ten times the default's work). An unlock runs Argon2id with
 * the parameters in the store's header before anything can be verified, so whoever can write that
 * header picks the cost; these bounds cap it.
 */
export const KDF_LIMITS = Object.freeze({ maxMemoryKiB: 2 * 1024 * 1024, maxIterations: 10, maxParallelism: 16, maxWorkKiB: 2 * 1024 * 1024 });

/** kdfParamsProblem says what is out of range in `p`, or returns undefined when sv would write them. */
export function kdfParamsProblem(p: KdfParams): string | undefined {
  const L = KDF_LIMITS;
  const int = (n: number, lo: number, hi: number): boolean => Number.isSafeInteger(n) && n >= lo && n <= hi;
  if (p.algorithm !== 'argon2id') return 'the algorithm must be argon2id';
  if (!int(p.parallelism, 1, L.maxParallelism)) return `parallelism ${p.parallelism} is not 1-${L.maxParallelism}`;
  if (!int(p.iterations, 1, L.maxIterations)) return `iterations ${p.iterations} is not 1-${L.maxIterations}`;
  if (!int(p.memoryKiB, 8 * p.parallelism, L.maxMemoryKiB)) return `memory ${p.memoryKiB} KiB is not ${8 * p.parallelism}-${L.maxMemoryKiB} KiB (at least 8 KiB per lane, at most 2 GiB)`;
  if (p.memoryKiB * p.iterations > L.maxWorkKiB) return `memory x iterations is ${p.memoryKiB * p.iterations} KiB, more than ${L.maxWorkKiB} KiB (2 GiB)`;
  return undefined;
}

/** checkKdfParams throws VAULT_BAD_INPUT unless `p` are parameters within KDF_LIMITS. */
export function checkKdfParams(p: KdfParams): KdfParams {
  const problem = kdfParamsProblem(p);
  if (problem) throw new VaultError('VAULT_BAD_INPUT', `Argon2id parameters out of range: ${problem}.`);
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
