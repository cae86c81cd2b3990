/**
 * @meshpop/vault is MeshPOP's layer 5: the secrets vault every other layer reads its keys from.
 * A password, a key file or a threshold of Shamir shares unlocks a random master key (Argon2id,
 * AES-256-GCM); each secret is sealed with its name and version as associated data, a MAC over the
 * store catches tampering, a hash-chained audit log records every read and write, and an unlock agent
 * keeps the vault open for a while so that neither people nor daemons type the password every time.
 */
export { VaultError, isVaultError, type VaultErrorCode } from './errors.js';
export { meshpopHome, vaultPaths, type VaultPaths } from './paths.js';
export type { Vault, SecretInfo, SecretMeta, VerifyReport } from './types.js';
export { openVault, readPasswordFile, type OpenOptions } from './open.js';
export { initVault, LocalVault, MAX_VALUE_BYTES, resetAudit, type AuditReset, type InitOptions, type InitResult, type Unlock, type Actor } from './store.js';
export { DEFAULT_KDF, type KdfParams } from './crypto/kdf.js';
export { AgentVault } from './agent/remote.js';
export { agentStatus, agentRequest, type AgentStatus } from './agent/client.js';
export { startAgent, DEFAULT_IDLE_MS } from './agent/spawn.js';
export { vaultStatus, type VaultStatus } from './status.js';
export { execWithSecrets, type ExecOptions, type ExecResult } from './exec.js';
export { Masker, MASK } from './mask.js';
export { envName, checkName } from './names.js';
export { splitKey, combineShares } from './shamir.js';
export { encryptSv01, decryptSv01, encodeSv01, decodeSv01, fileAad, type Sv01Blob, type Sv01Key } from './sv01.js';
export { exportBundle, importBundle, importSvVaultFolder, type BundleFormat, type ImportResult } from './bundle.js';
export { readSvVaultFolder, type SvVaultEntry } from './svvault.js';
export { readAudit, inspectAudit, type AuditRecord, type AuditReport } from './audit.js';
export { writeFileAtomic } from './fsutil.js';
