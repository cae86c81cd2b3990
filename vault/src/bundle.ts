import { VaultError } from './errors.js';
import { checkName } from './names.js';
import { Sv01Key, decryptSv01, encryptSv01 } from './sv01.js';
import { SecretInfo, Vault } from './types.js';

/**
 * An export bundle is an SV01 blob (context `meshpop-vault-export`) around a JSON document of secrets:
 * sealed under its own password, so it can travel and be opened by `sv import` (or sv-vault) elsewhere.
 */

export const BUNDLE_CONTEXT = 'meshpop-vault-export';

interface BundleSecret {
  name: string;
  value: string;
  category: string;
  tags: string[];
  created: string;
  updated: string;
}

interface BundleDoc {
  format: 'meshpop-vault-export';
  version: 1;
  exported: string;
  secrets: BundleSecret[];
}

/** exportBundle seals the named secrets (all when omitted) into a bundle. */
export async function exportBundle(vault: Vault, key: Sv01Key, only?: string[]): Promise<{ blob: Buffer; names: string[] }> {
  const infos = new Map((await vault.list()).map((i) => [i.name, i]));
  const values = await vault.getMany(only, 'export');
  const secrets: BundleSecret[] = [...values].map(([name, v]) => {
    const i = infos.get(name)!;
    return { name, value: Buffer.from(v).toString('base64'), category: i.category, tags: i.tags, created: i.created, updated: i.updated };
  });
  const doc: BundleDoc = { format: BUNDLE_CONTEXT, version: 1, exported: new Date().toISOString(), secrets };
  const blob = await encryptSv01(Buffer.from(JSON.stringify(doc), 'utf8'), key, { context: BUNDLE_CONTEXT });
  return { blob, names: secrets.map((s) => s.name) };
}

/** ImportResult says what `sv import` did with each secret of a bundle. */
export interface ImportResult {
  imported: SecretInfo[];
  skipped: string[];
}

/** importBundle opens a bundle and stores its secrets; existing names are skipped unless `overwrite`. */
export async function importBundle(vault: Vault, blob: Uint8Array, key: Sv01Key, overwrite = false): Promise<ImportResult> {
  const { plaintext, blob: parsed } = await decryptSv01(blob, key);
  if (parsed.context !== BUNDLE_CONTEXT) {
    throw new VaultError('VAULT_BAD_BLOB', `this SV01 blob is not a vault export (its context is "${parsed.context.slice(0, 40)}"); use sv decrypt-file for files.`);
  }
  let doc: BundleDoc;
  try {
    doc = JSON.parse(Buffer.from(plaintext).toString('utf8')) as BundleDoc;
    if (doc.format !== BUNDLE_CONTEXT || doc.version !== 1 || !Array.isArray(doc.secrets)) throw new Error('shape');
    for (const s of doc.secrets) {
      checkName(s.name);
      if (typeof s.value !== 'string') throw new Error('value');
    }
  } catch (err) {
    if (err instanceof VaultError) throw err;
    throw new VaultError('VAULT_BAD_BLOB', 'the export bundle decrypted but its contents are not a vault export of version 1.');
  }
  const result: ImportResult = { imported: [], skipped: [] };
  for (const s of doc.secrets) {
    if (!overwrite && (await vault.has(s.name))) {
      result.skipped.push(s.name);
      continue;
    }
    const tags = Array.isArray(s.tags) ? s.tags.map(String) : [];
    result.imported.push(await vault.set(s.name, Buffer.from(s.value, 'base64'), { category: String(s.category ?? 'general'), tags }));
  }
  return result;
}
