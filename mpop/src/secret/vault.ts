import { openVault, type SecretInfo, type SecretMeta } from '@meshpop/vault';
import { mpopPaths } from '../paths.js';
import { auditSecret } from './audit.js';

/** listSecrets describes every secret of the controller's vault (names, versions, dates; never values). */
export async function listSecrets(home: string): Promise<SecretInfo[]> {
  const v = await openVault({ home });
  try {
    return await v.list();
  } finally {
    await v.close();
  }
}

/** getSecret returns a secret's value as bytes (the vault audits the read). */
export async function getSecret(home: string, name: string): Promise<Uint8Array> {
  const v = await openVault({ home });
  try {
    return await v.get(name);
  } finally {
    await v.close();
  }
}

/** setSecret stores a new version of a secret and records the name (never the value) in mpop's audit log. */
export async function setSecret(home: string, name: string, value: Uint8Array | string, meta: SecretMeta = {}): Promise<SecretInfo> {
  const v = await openVault({ home });
  try {
    const info = await v.set(name, value, meta);
    auditSecret(mpopPaths(home).audit, { command: 'secret set', ok: true, names: [name] });
    return info;
  } finally {
    await v.close();
  }
}

/** removeSecret deletes a secret, recorded by name in mpop's audit log. */
export async function removeSecret(home: string, name: string): Promise<void> {
  const v = await openVault({ home });
  try {
    await v.remove(name);
    auditSecret(mpopPaths(home).audit, { command: 'secret rm', ok: true, names: [name] });
  } finally {
    await v.close();
  }
}
