/** SecretInfo describes a secret without its value. */
export interface SecretInfo {
  name: string;
  version: number;
  category: string;
  tags: string[];
  created: string;
  updated: string;
}

/** SecretMeta is what a caller may set beside a value. */
export interface SecretMeta {
  category?: string;
  tags?: string[];
}

/** VerifyReport is the result of a full integrity check. */
export interface VerifyReport {
  ok: true;
  store: string;
  generation: number;
  secrets: number;
  audit: { entries: number };
}

/**
 * Vault is what every layer holds once the vault is open, whether the key lives in this process
 * (LocalVault) or in the unlock agent (AgentVault). Values are bytes; getString decodes UTF-8.
 */
export interface Vault {
  readonly via: 'local' | 'agent';
  /** get returns a secret's value, or throws VAULT_NOT_FOUND. */
  get(name: string): Promise<Uint8Array>;
  /** getString returns a secret's value as UTF-8 text. */
  getString(name: string): Promise<string>;
  /** has tells whether a secret exists (no value is read). */
  has(name: string): Promise<boolean>;
  /** set stores a new version of a secret and returns its description. */
  set(name: string, value: Uint8Array | string, meta?: SecretMeta): Promise<SecretInfo>;
  /** list describes every secret, sorted by name; it never returns values. */
  list(): Promise<SecretInfo[]>;
  /** remove deletes a secret, or throws VAULT_NOT_FOUND. */
  remove(name: string): Promise<void>;
  /** getMany returns the values of `names` (every secret when omitted) in one audited read. */
  getMany(names?: string[], op?: string): Promise<Map<string, Uint8Array>>;
  /** split cuts the master key into Shamir shares and records the split in the store. */
  split(count: number, threshold: number): Promise<string[]>;
  /** verify checks the whole store (checksum, MAC, every ciphertext) and the audit chain. */
  verify(): Promise<VerifyReport>;
  /** close forgets the key (LocalVault) or the connection details (AgentVault). */
  close(): Promise<void>;
}
