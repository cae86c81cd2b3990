import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VaultError } from './errors.js';
import { decryptSv01 } from './sv01.js';

/**
 * sv-vault's own formats, as its SPEC.md and source lay them out, so a user moving from sv-vault brings
 * everything over and can go back:
 *
 * - Its secrets are a JSON object of name -> entry, where an entry is exactly
 *   `{name, value, category, tags, created_at, updated_at, created_by, note}` (value is text; sv-vault
 *   builds each entry from these keys and refuses any other).
 * - Its export bundle is that object in an SV01 blob under a password, context "vault-export", no AAD.
 * - Its vault folder (`~/.sv-vault/`) holds `vault.key.enc` (the 32-byte master key in an SV01 blob under
 *   the password, context "master-key") and `vault.data` (the secrets object in an SV01 blob under the raw
 *   master key: zero salt, context "default"), neither with AAD, beside `vault.meta.json` and `audit.jsonl`.
 */

/** SV_VAULT_EXPORT_CONTEXT is the context sv-vault gives its export bundles. */
export const SV_VAULT_EXPORT_CONTEXT = 'vault-export';

/** SvVaultEntry is one secret as sv-vault keeps it. */
export interface SvVaultEntry {
  name: string;
  value: string;
  category: string;
  tags: string[];
  created_at: string;
  updated_at: string;
  created_by: string;
  note: string;
}

/** ForeignSecret is a secret read from another format, ready to be stored. */
export interface ForeignSecret {
  name: string;
  value: Uint8Array;
  category?: string;
  tags: string[];
}

function bad(why: string): VaultError {
  return new VaultError('VAULT_BAD_BLOB', `the sv-vault secrets decrypted but ${why}.`);
}

/**
 * parseSvVaultSecrets reads sv-vault's secrets object. sv-vault's default category ("default") is left
 * out, so the secret gets sv's default for its name.
 */
export function parseSvVaultSecrets(plaintext: Uint8Array): ForeignSecret[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(plaintext).toString('utf8'));
  } catch {
    throw bad('they are not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('they are not an object of name -> entry');
  const out: ForeignSecret[] = [];
  for (const [key, e] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof e !== 'object' || e === null) throw bad(`the entry ${JSON.stringify(key.slice(0, 64))} is not an object`);
    const entry = e as Partial<Record<keyof SvVaultEntry, unknown>>;
    const name = typeof entry.name === 'string' ? entry.name : key;
    if (typeof entry.value !== 'string') throw bad(`the entry ${JSON.stringify(name.slice(0, 64))} has no text value`);
    const tags = Array.isArray(entry.tags) ? entry.tags.filter((t): t is string => typeof t === 'string') : [];
    const category = typeof entry.category === 'string' && entry.category !== 'default' ? entry.category : undefined;
    out.push({ name, value: new TextEncoder().encode(entry.value), tags, ...(category ? { category } : {}) });
  }
  return out;
}

/** svVaultEntries renders secrets as sv-vault's secrets object; every value must be UTF-8 text. */
export function svVaultEntries(secrets: { name: string; value: Uint8Array; category: string; tags: string[]; created: string; updated: string }[]): Record<string, SvVaultEntry> {
  const binary = secrets.filter((s) => !Buffer.from(Buffer.from(s.value).toString('utf8'), 'utf8').equals(Buffer.from(s.value))).map((s) => s.name);
  if (binary.length > 0) {
    throw new VaultError(
      'VAULT_BAD_INPUT',
      `sv-vault keeps values as text, and ${binary.join(', ')} ${binary.length === 1 ? 'is' : 'are'} not UTF-8 text; nothing was written. ` +
        'Export with --format meshpop (read by sv only), or leave them out with --only.',
    );
  }
  const out: Record<string, SvVaultEntry> = {};
  for (const s of secrets) {
    out[s.name] = {
      name: s.name,
      value: Buffer.from(s.value).toString('utf8'),
      category: s.category,
      tags: [...s.tags],
      created_at: s.created,
      updated_at: s.updated,
      created_by: 'human',
      note: '',
    };
  }
  return out;
}

function readIn(dir: string, file: string): Buffer {
  try {
    return readFileSync(join(dir, file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VaultError('VAULT_BAD_INPUT', `${dir} has no ${file}: it is not an sv-vault folder (that holds vault.key.enc and vault.data, e.g. ~/.sv-vault).`);
    throw new VaultError('VAULT_BAD_INPUT', `cannot read ${join(dir, file)} (${code ?? err}).`);
  }
}

/** readSvVaultFolder opens sv-vault's vault folder with its password and returns its secrets. */
export async function readSvVaultFolder(dir: string, password: string | Uint8Array): Promise<ForeignSecret[]> {
  const keyBlob = readIn(dir, 'vault.key.enc');
  const dataBlob = readIn(dir, 'vault.data');
  let master: Uint8Array;
  try {
    master = (await decryptSv01(keyBlob, { password })).plaintext;
  } catch (err) {
    if (err instanceof VaultError && err.code === 'VAULT_DECRYPT') {
      throw new VaultError('VAULT_BAD_PASSWORD', `${join(dir, 'vault.key.enc')} does not open with that password (sv-vault's, not this vault's), or it was changed. Nothing was imported.`);
    }
    throw err;
  }
  if (master.length !== 32) throw new VaultError('VAULT_BAD_BLOB', `${join(dir, 'vault.key.enc')} holds ${master.length} bytes, not a 32-byte master key.`);
  let data: Uint8Array;
  try {
    data = (await decryptSv01(dataBlob, { rawKey: master })).plaintext;
  } catch (err) {
    if (err instanceof VaultError && err.code === 'VAULT_DECRYPT') {
      throw new VaultError('VAULT_TAMPERED', `${join(dir, 'vault.data')} does not open with the master key in vault.key.enc: it was changed, or comes from another sv-vault. Nothing was imported.`);
    }
    throw err;
  } finally {
    master.fill(0);
  }
  return parseSvVaultSecrets(data);
}
