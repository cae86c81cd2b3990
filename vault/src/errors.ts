/**
 * VaultErrorCode names every way the vault can refuse. Each code has one meaning, so callers
 * (the CLI, other layers, an MCP tool) can branch on it without parsing messages.
 */
export type VaultErrorCode =
  | 'VAULT_NOT_INITIALIZED'
  | 'VAULT_EXISTS'
  | 'VAULT_LOCKED'
  | 'VAULT_BAD_PASSWORD'
  | 'VAULT_BAD_KEY_FILE'
  | 'VAULT_CORRUPT'
  | 'VAULT_TAMPERED'
  | 'VAULT_ROLLBACK'
  | 'VAULT_NOT_FOUND'
  | 'VAULT_BAD_NAME'
  | 'VAULT_BAD_INPUT'
  | 'VAULT_BAD_SHARE'
  | 'VAULT_NOT_ENOUGH_SHARES'
  | 'VAULT_SHARE_MISMATCH'
  | 'VAULT_DISK_FULL'
  | 'VAULT_IO'
  | 'VAULT_BUSY'
  | 'VAULT_AGENT'
  | 'VAULT_BAD_BLOB'
  | 'VAULT_DECRYPT'
  | 'VAULT_AUDIT_BROKEN'
  | 'VAULT_USAGE'
  | 'VAULT_INSECURE';

/**
 * VaultError is the one error class of @meshpop/vault. Its message says what happened and what
 * to do, and never contains a secret value; the underlying error, if any, is kept as `cause`.
 */
export class VaultError extends Error {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultError';
    this.code = code;
  }
}

/** isVaultError tells whether `err` is a VaultError, optionally of one code. */
export function isVaultError(err: unknown, code?: VaultErrorCode): err is VaultError {
  return err instanceof VaultError && (code === undefined || err.code === code);
}
