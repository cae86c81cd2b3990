import { VaultError, isVaultError } from './errors.js';
import { checkName } from './names.js';
import { Sv01Key, decryptSv01, encryptSv01 } from './sv01.js';
import { ForeignSecret, SV_VAULT_EXPORT_CONTEXT, parseSvVaultSecrets, readSvVaultFolder, svVaultEntries } from './svvault.js';
import { SecretInfo, Vault } from './types.js';

/**
 * An export bundle is an SV01 blob under its own password, in one of two layouts:
 * - `sv-vault` (the default): sv-vault's own export (context "vault-export", its object of name -> entry),
 *   read by `sv import` and by sv-vault's import alike; values must be UTF-8 text.
 * - `meshpop`: context `meshpop-vault-export`, a document whose values are base64, so any bytes travel; read by sv only.
 * `sv import` reads both, and sv-vault's vault folder itself (importSvVaultFolder).
 */

export const BUNDLE_CONTEXT = 'meshpop-vault-export';

/** BundleFormat is the layout of a bundle that exportBundle writes. */
export type BundleFormat = 'sv-vault' | 'meshpop';

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

/** exportBundle seals the named secrets (all when omitted) into a bundle of `format`. */
export async function exportBundle(vault: Vault, key: Sv01Key, only?: string[], format: BundleFormat = 'sv-vault'): Promise<{ blob: Buffer; names: string[] }> {
  const infos = new Map((await vault.list()).map((i) => [i.name, i]));
  const values = await vault.getMany(only, 'export');
  const secrets = [...values].map(([name, value]) => ({ ...infos.get(name)!, value }));
  const body =
    format === 'sv-vault'
      ? svVaultEntries(secrets)
      : ({
          format: BUNDLE_CONTEXT,
          version: 1,
          exported: new Date().toISOString(),
          secrets: secrets.map((s) => ({ name: s.name, value: Buffer.from(s.value).toString('base64'), category: s.category, tags: s.tags, created: s.created, updated: s.updated })),
        } satisfies BundleDoc);
  const context = format === 'sv-vault' ? SV_VAULT_EXPORT_CONTEXT : BUNDLE_CONTEXT;
  const blob = await encryptSv01(Buffer.from(JSON.stringify(body), 'utf8'), key, { context });
  return { blob, names: secrets.map((s) => s.name) };
}

/** ImportResult says what `sv import` did with each secret. */
export interface ImportResult {
  imported: SecretInfo[];
  /** names that exist here already (kept; --overwrite replaces them) */
  skipped: string[];
  /** names whose category or tags were not labels sv takes and were left off */
  relabeled: string[];
}

function parseMeshpopBundle(plaintext: Uint8Array): ForeignSecret[] {
  try {
    const doc = JSON.parse(Buffer.from(plaintext).toString('utf8')) as BundleDoc;
    if (doc.format !== BUNDLE_CONTEXT || doc.version !== 1 || !Array.isArray(doc.secrets)) throw new Error('shape');
    return doc.secrets.map((s) => {
      if (typeof s.name !== 'string' || typeof s.value !== 'string') throw new Error('entry');
      return { name: s.name, value: new Uint8Array(Buffer.from(s.value, 'base64')), tags: Array.isArray(s.tags) ? s.tags.map(String) : [], ...(typeof s.category === 'string' ? { category: s.category } : {}) };
    });
  } catch {
    throw new VaultError('VAULT_BAD_BLOB', 'the export bundle decrypted but its contents are not a vault export of version 1.');
  }
}

/** importBundle opens a bundle (sv's or sv-vault's) and stores its secrets; existing names are skipped unless `overwrite`. */
export async function importBundle(vault: Vault, blob: Uint8Array, key: Sv01Key, overwrite = false): Promise<ImportResult> {
  const { plaintext, blob: parsed } = await decryptSv01(blob, key);
  if (parsed.context === BUNDLE_CONTEXT) return importSecrets(vault, parseMeshpopBundle(plaintext), overwrite);
  if (parsed.context === SV_VAULT_EXPORT_CONTEXT) return importSecrets(vault, parseSvVaultSecrets(plaintext), overwrite);
  throw new VaultError(
    'VAULT_BAD_BLOB',
    `this SV01 blob is not a vault export (its context is ${JSON.stringify(parsed.context.slice(0, 40))}); use sv decrypt-file for files, and sv import --from-sv-vault for an sv-vault folder.`,
  );
}

/** importSvVaultFolder stores the secrets of sv-vault's vault folder `dir`, opened with its password. */
export async function importSvVaultFolder(vault: Vault, dir: string, password: string | Uint8Array, overwrite = false): Promise<ImportResult> {
  return importSecrets(vault, await readSvVaultFolder(dir, password), overwrite);
}

const LABEL_RE = /^[\p{L}\p{N}_.@+=:-]{1,64}$/u;

/**
 * importSecrets checks every secret before it stores any: a bundle whose names or values this vault cannot
 * hold is refused whole (VAULT_BAD_INPUT, saying which and why), so an import never stops halfway for bad input.
 */
async function importSecrets(vault: Vault, secrets: ForeignSecret[], overwrite: boolean): Promise<ImportResult> {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const s of secrets) {
    const shown = JSON.stringify(s.name.slice(0, 64));
    try {
      checkName(s.name);
    } catch (err) {
      if (!isVaultError(err)) throw err;
      problems.push(`${shown} is not a name sv takes (letters, digits and _ . @ + = - in segments separated by /)`);
      continue;
    }
    if (seen.has(s.name)) problems.push(`${shown} appears twice`);
    seen.add(s.name);
    if (s.value.length === 0) problems.push(`${shown} has an empty value`);
    if (s.value.length > 1024 * 1024) problems.push(`${shown} is larger than 1 MiB`);
  }
  if (problems.length > 0) {
    throw new VaultError('VAULT_BAD_INPUT', `nothing was imported: ${problems.join('; ')}. Fix these where the secrets come from, then import again.`);
  }
  const result: ImportResult = { imported: [], skipped: [], relabeled: [] };
  for (const s of secrets) {
    if (!overwrite && (await vault.has(s.name))) {
      result.skipped.push(s.name);
      continue;
    }
    const tags = s.tags.filter((t) => LABEL_RE.test(t));
    const category = s.category !== undefined && LABEL_RE.test(s.category) ? s.category : undefined;
    if (tags.length !== s.tags.length || (s.category !== undefined && category === undefined)) result.relabeled.push(s.name);
    result.imported.push(await vault.set(s.name, s.value, { tags, ...(category ? { category } : {}) }));
  }
  return result;
}
