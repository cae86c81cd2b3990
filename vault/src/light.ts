/**
 * `@meshpop/vault/light` is the part of the vault a short-lived client needs to read secrets through a
 * running unlock agent, without loading the store, Argon2 or the crypto (about 60 ms less at start).
 * Use `openVault` from the package root when no agent may be running.
 */
export { VaultError, isVaultError, type VaultErrorCode } from './errors.js';
export { meshpopHome, vaultPaths, type VaultPaths } from './paths.js';
export type { Vault, SecretInfo, SecretMeta, VerifyReport } from './types.js';
export { AgentVault } from './agent/remote.js';
export { agentStatus, type AgentStatus } from './agent/client.js';
