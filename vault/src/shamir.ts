import { combine, split } from 'shamir-secret-sharing';
import { sha256Hex } from './crypto/keys.js';
import { VaultError } from './errors.js';

/**
 * A share is text a person can copy, print or read aloud:
 *
 *   svs1-<vault id, 8 hex>-<key id, 8 hex>-<threshold>-<share, 66 hex>-<check, 8 hex>
 *
 * The vault and key ids tell a share of another vault, or of a key replaced by `sv rekey`, from a good
 * one before any arithmetic; the check (SHA-256 of the rest) catches a typo.
 */

/** ShareOrigin is what a set of shares must agree on: which vault, which master key. */
export interface ShareOrigin {
  vaultId: string;
  keyId: string;
}

interface DecodedShare extends ShareOrigin {
  threshold: number;
  bytes: Uint8Array;
}

const SHARE_RE = /^svs1-([0-9a-f]{8})-([0-9a-f]{8})-(\d{1,3})-([0-9a-f]{66})-([0-9a-f]{8})$/;

function encodeShare(origin: ShareOrigin, threshold: number, bytes: Uint8Array): string {
  const body = `svs1-${origin.vaultId.slice(0, 8)}-${origin.keyId}-${threshold}-${Buffer.from(bytes).toString('hex')}`;
  return `${body}-${sha256Hex(body).slice(0, 8)}`;
}

function decodeShare(text: string, index: number): DecodedShare {
  const s = text.trim();
  const m = SHARE_RE.exec(s);
  if (!m) throw new VaultError('VAULT_BAD_SHARE', `share ${index + 1} is not a vault share (expected svs1-...); check that it was copied whole.`);
  if (sha256Hex(s.slice(0, s.lastIndexOf('-'))).slice(0, 8) !== m[5]) {
    throw new VaultError('VAULT_BAD_SHARE', `share ${index + 1} fails its checksum: a character was mistyped or lost.`);
  }
  return { vaultId: m[1]!, keyId: m[2]!, threshold: Number(m[3]), bytes: new Uint8Array(Buffer.from(m[4]!, 'hex')) };
}

/** splitKey cuts a 32-byte key into `count` shares, any `threshold` of which rebuild it. */
export async function splitKey(key: Uint8Array, origin: ShareOrigin, count: number, threshold: number): Promise<string[]> {
  if (!Number.isInteger(count) || !Number.isInteger(threshold) || threshold < 2 || count < threshold || count > 255) {
    throw new VaultError('VAULT_BAD_INPUT', `cannot split into ${count} shares with threshold ${threshold}: need 2 <= threshold <= shares <= 255.`);
  }
  const parts = await split(key, count, threshold);
  return parts.map((p) => encodeShare(origin, threshold, p));
}

/**
 * combineShares rebuilds the key from shares of `expected` (the vault being opened). It refuses
 * shares of another vault or an older key, duplicates, and fewer shares than the threshold.
 */
export async function combineShares(shares: string[], expected: ShareOrigin): Promise<Uint8Array> {
  const decoded = shares.filter((s) => s.trim() !== '').map(decodeShare);
  if (decoded.length === 0) throw new VaultError('VAULT_NOT_ENOUGH_SHARES', 'no shares given; pass them one per line on stdin or with --share.');
  for (const [i, d] of decoded.entries()) {
    if (d.vaultId !== expected.vaultId.slice(0, 8)) {
      throw new VaultError('VAULT_SHARE_MISMATCH', `share ${i + 1} belongs to another vault (${d.vaultId}), not this one (${expected.vaultId.slice(0, 8)}).`);
    }
    if (d.keyId !== expected.keyId) {
      throw new VaultError('VAULT_SHARE_MISMATCH', `share ${i + 1} was made for an earlier master key (replaced by sv rekey); use shares from the latest split.`);
    }
  }
  const threshold = decoded[0]!.threshold;
  if (decoded.some((d) => d.threshold !== threshold)) {
    throw new VaultError('VAULT_SHARE_MISMATCH', 'the shares come from different splits (their thresholds differ); use shares from one split.');
  }
  const xs = new Set(decoded.map((d) => d.bytes[d.bytes.length - 1]));
  if (xs.size !== decoded.length) throw new VaultError('VAULT_BAD_SHARE', 'the same share was given twice; each share counts once.');
  if (decoded.length < threshold) {
    throw new VaultError('VAULT_NOT_ENOUGH_SHARES', `${decoded.length} share(s) given, ${threshold} needed; find ${threshold - decoded.length} more.`);
  }
  return combine(decoded.map((d) => d.bytes));
}
