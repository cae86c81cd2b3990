import { existsSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { KEY_BYTES, open, seal } from './crypto/aead.js';
import { DEFAULT_KDF, KdfParams, checkKdfParams, deriveKey } from './crypto/kdf.js';
import { keyId, subkey } from './crypto/keys.js';
import { AuditEvent, AuditLog, StoreAnchor } from './audit.js';
import { VaultError } from './errors.js';
import { Entry, KeyFileSlot, ParsedStore, PasswordSlot, StoreDoc, checkMac, parseStore, serializeStore } from './format.js';
import { assertPrivateDir, ensureDir, ioError, writeFileAtomic } from './fsutil.js';
import { withLock } from './lock.js';
import { checkName, defaultCategory } from './names.js';
import { VaultPaths, vaultPaths } from './paths.js';
import { combineShares, splitKey } from './shamir.js';
import { SecretInfo, SecretMeta, Vault, VerifyReport } from './types.js';

/** Unlock is one way to open the vault: its password, its key file, enough Shamir shares, or the key itself. */
export type Unlock =
  | { password: string | Uint8Array }
  | { keyFile: string }
  | { shares: string[] }
  | { masterKey: Uint8Array };

/** Actor is who an operation is recorded for in the audit log: through the agent, the pid and uid the kernel reports for the caller. */
export interface Actor {
  via: 'local' | 'agent';
  pid: number;
  uid?: number;
}

/** selfActor is this process, opening the vault itself. */
const selfActor = (): Actor => ({ via: 'local', pid: process.pid, ...(process.getuid ? { uid: process.getuid() } : {}) });

/** MAX_VALUE_BYTES is the largest secret value the vault takes (1 MiB). */
export const MAX_VALUE_BYTES = 1024 * 1024;

const utf8 = new TextEncoder();
const now = (): string => new Date().toISOString();
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

function slotAad(id: string, kind: string): Uint8Array {
  return utf8.encode(`meshpop-vault/1 slot ${id} ${kind}`);
}
function entryAad(id: string, name: string, version: number): Uint8Array {
  return utf8.encode(`meshpop-vault/1 entry ${id}\0${name}\0${version}`);
}
function toBytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? utf8.encode(v) : v;
}

async function passwordSlot(id: string, master: Uint8Array, password: string | Uint8Array, kdf: KdfParams): Promise<PasswordSlot> {
  const salt = new Uint8Array(randomBytes(32));
  const kek = await deriveKey(toBytes(password), salt, checkKdfParams(kdf));
  const s = seal(kek, master, slotAad(id, 'password'));
  return { kind: 'password', kdf: { ...kdf }, salt: b64(salt), nonce: b64(s.nonce), wrapped: b64(s.ciphertext) };
}

function keyFileKek(bytes: Uint8Array, salt: Uint8Array): Uint8Array {
  return hkdf(sha256, bytes, salt, utf8.encode('meshpop-vault/1 keyfile'), KEY_BYTES);
}

function keyFileSlot(id: string, master: Uint8Array, keyBytes: Uint8Array): KeyFileSlot {
  const salt = new Uint8Array(randomBytes(32));
  const s = seal(keyFileKek(keyBytes, salt), master, slotAad(id, 'keyfile'));
  return { kind: 'keyfile', salt: b64(salt), nonce: b64(s.nonce), wrapped: b64(s.ciphertext) };
}

/** readKeyFile reads a key file and insists it holds at least 32 bytes. */
export function readKeyFile(path: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new VaultError('VAULT_BAD_KEY_FILE', `cannot read the key file ${path} (${(err as NodeJS.ErrnoException).code ?? err}).`, { cause: err });
  }
  if (bytes.length < 32) throw new VaultError('VAULT_BAD_KEY_FILE', `the key file ${path} holds ${bytes.length} bytes; a key file needs at least 32.`);
  return new Uint8Array(bytes);
}

/** makeKeyFile writes a new key file (64 random hex digits, mode 0600); it never overwrites one. */
export function makeKeyFile(path: string): Uint8Array {
  const text = randomBytes(32).toString('hex') + '\n';
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw ioError(err, 'creating the key file', path);
  }
  return utf8.encode(text);
}

function readStore(paths: VaultPaths): ParsedStore {
  let bytes: Buffer;
  try {
    bytes = readFileSync(paths.store);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VaultError('VAULT_NOT_INITIALIZED', `no vault at ${paths.store}; create one with \`sv init\` (or set MESHPOP_HOME to where it is).`);
    }
    throw ioError(err, 'reading', paths.store);
  }
  return parseStore(bytes, paths.store);
}

/** readHeader returns what the store under `paths` shows without a key: its header and each entry's metadata. */
export function readHeader(paths: VaultPaths): StoreDoc {
  return readStore(paths).doc;
}

/** anchorOf is what a store says about the audit log: its generation and the record of its last write. */
function anchorOf(doc: StoreDoc): StoreAnchor {
  return { generation: doc.header.generation, ...(doc.header.audit ? { record: doc.header.audit } : {}) };
}

/** auditKey is the key that MACs the audit log's lines and head. */
const auditKey = (master: Uint8Array): Uint8Array => subkey(master, 'audit');

const TEMP_PREFIX = 'store.sv.tmp-';

/**
 * sweepTemps removes temp files of store writes that were killed before their rename. Each is a whole
 * copy of some store (with its password slot), so none is left lying around. Call it holding the store's lock.
 */
function sweepTemps(paths: VaultPaths): void {
  let names: string[];
  try {
    names = readdirSync(paths.dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(TEMP_PREFIX)) continue;
    try { unlinkSync(`${paths.dir}/${n}`); } catch { /* gone already */ }
  }
}

/** hasTemps tells whether a killed write left a temp file behind (cheap: one readdir). */
function hasTemps(paths: VaultPaths): boolean {
  try {
    return readdirSync(paths.dir).some((n) => n.startsWith(TEMP_PREFIX));
  } catch {
    return false;
  }
}

/**
 * commitStore writes `doc` (its generation already raised) and the audit record of `ev`, under the log's
 * lock: the record goes inside the MACed store first, then into the log, so a crash between the two
 * leaves a store that carries its own record, which the next open appends. A store's first record
 * (a new vault, or one written before records existed) moves the head first, so that such a store never
 * lacks a head. It returns the append, for the caller to run and to say, when only that fails, that the write was saved.
 */
function commitStore(log: AuditLog, paths: VaultPaths, doc: StoreDoc, master: Uint8Array, ev: AuditEvent): () => void {
  const key = auditKey(master);
  const rec = log.next(doc.header.generation, ev, key);
  const first = !doc.header.audit;
  doc.header.audit = rec;
  if (first) log.writeHead(rec, key);
  writeFileAtomic(paths.store, serializeStore(doc, subkey(master, 'mac')));
  return () => log.append(rec, key);
}

/** masterFrom unwraps the master key of the store whose header is `header` with one of its keys. */
async function masterFrom(header: StoreDoc['header'], how: Unlock): Promise<Uint8Array> {
  if ('masterKey' in how) {
    if (how.masterKey.length !== KEY_BYTES || keyId(how.masterKey) !== header.keyId) {
      throw new VaultError('VAULT_BAD_INPUT', 'that key is not the master key of this vault.');
    }
    return how.masterKey;
  } else if ('password' in how) {
    const slot = header.slots.find((s): s is PasswordSlot => s.kind === 'password');
    if (!slot) throw new VaultError('VAULT_BAD_PASSWORD', 'this vault has no password; unlock it with its key file or shares.');
    const kek = await deriveKey(toBytes(how.password), unb64(slot.salt), slot.kdf);
    const master = open(kek, unb64(slot.nonce), unb64(slot.wrapped), slotAad(header.id, 'password'));
    if (!master) throw new VaultError('VAULT_BAD_PASSWORD', 'wrong password; the vault is unchanged. Try again, or recover it with `sv recover` and your shares.');
    return master;
  } else if ('keyFile' in how) {
    const slot = header.slots.find((s): s is KeyFileSlot => s.kind === 'keyfile');
    if (!slot) throw new VaultError('VAULT_BAD_KEY_FILE', 'this vault has no key file; unlock it with its password.');
    const master = open(keyFileKek(readKeyFile(how.keyFile), unb64(slot.salt)), unb64(slot.nonce), unb64(slot.wrapped), slotAad(header.id, 'keyfile'));
    if (!master) throw new VaultError('VAULT_BAD_KEY_FILE', `${how.keyFile} is not this vault's key file.`);
    return master;
  } else {
    const master = await combineShares(how.shares, { vaultId: header.id, keyId: header.keyId });
    if (keyId(master) !== header.keyId) {
      throw new VaultError('VAULT_SHARE_MISMATCH', 'these shares do not rebuild this vault\'s key: they come from different splits, or one is damaged.');
    }
    return master;
  }
}

/** keepLogAside renames the audit log and its head (where present) to `FILE.SUFFIX`, and returns the new names. */
function keepLogAside(paths: VaultPaths, suffix: string): string[] {
  const kept: string[] = [];
  for (const f of [paths.audit, paths.auditHead]) {
    if (!existsSync(f)) continue;
    renameSync(f, `${f}.${suffix}`);
    kept.push(`${f}.${suffix}`);
  }
  return kept;
}

/** AuditReset is what `sv audit --reset` did: why the old log was refused, and where it was kept. */
export interface AuditReset {
  problem: string;
  keptAs: string[];
  generation: number;
}

/**
 * resetAudit starts a new audit log for the vault under `home` once its log was found broken, or its store
 * rolled back (`sv audit --reset`). Whoever holds a key of the vault accepts the store as it is now: the old
 * log and head are kept beside it (`audit.jsonl.broken-STAMP`), the store is written again with a new first
 * record that says so and why, and every check holds again from there. An intact log is never reset
 * (VAULT_BAD_INPUT), so a reset cannot serve to drop the history of a healthy vault.
 */
export async function resetAudit(how: Unlock, opts: { home?: string } = {}): Promise<AuditReset> {
  const paths = vaultPaths(opts.home);
  assertPrivateDir(paths.dir);
  return withLock(paths.lock, async () => {
    sweepTemps(paths);
    const parsed = readStore(paths);
    const master = await masterFrom(parsed.doc.header, how);
    checkMac(parsed, subkey(master, 'mac'), paths.store);
    // The log's own lock, not AuditLog.open: that reads the log, and a broken one would throw.
    return withLock(paths.auditLock, () => {
      const doc = parsed.doc;
      const found = AuditLog.inspect(paths, anchorOf(doc), auditKey(master));
      if (found.ok) throw new VaultError('VAULT_BAD_INPUT', `the audit log is intact (${found.entries} entries); there is nothing to reset.`);
      const problem = found.problem ?? 'the audit log is broken';
      const keptAs = keepLogAside(paths, `broken-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      doc.header.generation += 1;
      delete doc.header.audit; // a first record again: the head is written before the store
      const detail = `a new log was started; the old one was refused (${problem.slice(0, 300)})${keptAs.length ? ` and kept as ${keptAs.join(', ')}` : ''}`;
      // The log was just moved aside, so this one reads empty.
      commitStore(AuditLog.read(paths, true), paths, doc, master, { op: 'audit-reset', detail, ...selfActor() })();
      return { problem, keptAs, generation: doc.header.generation };
    });
  });
}

/** InitOptions are the choices `sv init` makes. */
export interface InitOptions {
  home?: string;
  password: string | Uint8Array;
  kdf?: KdfParams;
  /** a key file that also unlocks the vault: created (random, 0600) when missing, else its bytes are used */
  keyFile?: string;
  /** Shamir split of the master key made at once; null for none */
  shares?: { count: number; threshold: number } | null;
}

/** InitResult is what `sv init` reports; `shares` are shown once and never stored. */
export interface InitResult {
  id: string;
  store: string;
  shares: string[];
  threshold?: number;
  keyFile?: { path: string; created: boolean };
}

/** initVault creates a new, empty vault. It refuses to touch an existing one (VAULT_EXISTS). */
export async function initVault(opts: InitOptions): Promise<InitResult> {
  const paths = vaultPaths(opts.home);
  const kdf = checkKdfParams({ ...DEFAULT_KDF, ...opts.kdf });
  if (toBytes(opts.password).length === 0) throw new VaultError('VAULT_BAD_INPUT', 'the password is empty; choose a password.');
  ensureDir(paths.dir);
  return withLock(paths.lock, async () => {
    if (existsSync(paths.store)) {
      throw new VaultError('VAULT_EXISTS', `a vault already exists at ${paths.store}; it was left as it is. Remove it yourself first if you mean to start over.`);
    }
    const master = new Uint8Array(randomBytes(KEY_BYTES));
    const id = randomBytes(16).toString('hex');
    const kid = keyId(master);
    const slots: (PasswordSlot | KeyFileSlot)[] = [await passwordSlot(id, master, opts.password, kdf)];
    let keyFile: InitResult['keyFile'];
    if (opts.keyFile) {
      const created = !existsSync(opts.keyFile);
      slots.push(keyFileSlot(id, master, created ? makeKeyFile(opts.keyFile) : readKeyFile(opts.keyFile)));
      keyFile = { path: opts.keyFile, created };
    }
    const shareCfg = opts.shares === undefined ? { count: 5, threshold: 3 } : opts.shares;
    const shares = shareCfg ? await splitKey(master, { vaultId: id, keyId: kid }, shareCfg.count, shareCfg.threshold) : [];
    const doc: StoreDoc = {
      header: {
        id,
        created: now(),
        generation: 1,
        keyId: kid,
        slots,
        shares: shareCfg ? { ...shareCfg, keyId: kid, created: now() } : null,
      },
      entries: [],
    };
    sweepTemps(paths);
    // A log left by an earlier vault at this place would read as a rollback of the new one: keep it aside.
    keepLogAside(paths, `${Date.now()}.old`);
    await AuditLog.open(paths, (log) => commitStore(log, paths, doc, master, { op: 'init', ...selfActor() })());
    return { id, store: paths.store, shares, ...(shareCfg ? { threshold: shareCfg.threshold } : {}), ...(keyFile ? { keyFile } : {}) };
  });
}

/**
 * LocalVault is the vault opened in this process: it holds the master key and reads the store
 * afresh (checksum, MAC, rollback) for every operation, so it always sees other writers' changes.
 */
export class LocalVault implements Vault {
  readonly via = 'local' as const;
  readonly paths: VaultPaths;
  #master: Uint8Array;
  #actor: Actor;

  private constructor(paths: VaultPaths, master: Uint8Array, actor: Actor) {
    this.paths = paths;
    this.#master = master;
    this.#actor = actor;
  }

  /** unlock opens the vault under `home` with one of its keys, checking the whole store. */
  static async unlock(how: Unlock, opts: { home?: string; actor?: Actor } = {}): Promise<LocalVault> {
    const paths = vaultPaths(opts.home);
    assertPrivateDir(paths.dir);
    const parsed = readStore(paths);
    const master = await masterFrom(parsed.doc.header, how);
    checkMac(parsed, subkey(master, 'mac'), paths.store);
    if (hasTemps(paths)) await withLock(paths.lock, () => sweepTemps(paths));
    const vault = new LocalVault(paths, master, opts.actor ?? selfActor());
    await vault.#open(() => undefined); // the store again, under the log's lock, and the two checked against each other
    return vault;
  }

  /** assertExists throws VAULT_NOT_INITIALIZED (or a damage error) unless a store is at `paths`. */
  static assertExists(paths: VaultPaths): void {
    readStore(paths);
  }

  /** forActor returns a view of this vault whose operations are audited as `actor`'s. */
  forActor(actor: Actor): LocalVault {
    return new LocalVault(this.paths, this.#master, actor);
  }

  /** masterKey exposes the key to the unlock agent that is started with it. */
  masterKey(): Uint8Array {
    return this.#master;
  }

  /** note records an operation that reads no value (unlock, lock, exec) in the audit log. */
  async note(op: string, names?: string[], detail?: string): Promise<void> {
    await this.#open((doc, log) => this.#record(log, doc, { op, ...(names ? { names } : {}), ...(detail ? { detail } : {}) }));
  }

  /**
   * #open runs `fn` on the store read afresh (checksum, MAC) under the audit log's lock, once the log and the
   * store agree (no rollback of either, no truncated, rewritten or forged log; a write's record a crash kept
   * out of the log is appended from the store). `whole` checks every line of the log, not just its tail.
   */
  async #open<T>(fn: (doc: StoreDoc, log: AuditLog) => T, whole = false): Promise<T> {
    return AuditLog.open(this.paths, (log) => {
      const parsed = readStore(this.paths);
      checkMac(parsed, subkey(this.#master, 'mac'), this.paths.store);
      log.check(anchorOf(parsed.doc), { key: auditKey(this.#master), repair: true });
      return fn(parsed.doc, log);
    }, whole);
  }

  /** #record appends `ev`, done by this vault's actor at the store's generation, to the log. */
  #record(log: AuditLog, doc: StoreDoc, ev: Omit<AuditEvent, 'via' | 'pid' | 'uid'>): void {
    const key = auditKey(this.#master);
    log.append(log.next(doc.header.generation, { ...ev, ...this.#actor }, key), key);
  }

  /** #mutate changes the store under its lock: read fresh, change, bump generation, write it with its audit record. */
  async #mutate<T>(op: string, names: string[] | undefined, fn: (doc: StoreDoc) => T | Promise<T>, nextMaster?: Uint8Array): Promise<T> {
    return withLock(this.paths.lock, async () => {
      sweepTemps(this.paths);
      const doc = await this.#open((d) => d);
      const onDisk = anchorOf(doc);
      const result = await fn(doc);
      doc.header.generation += 1;
      const master = nextMaster ?? this.#master;
      await AuditLog.open(this.paths, (log) => {
        log.check(onDisk, { key: auditKey(this.#master), repair: true });
        const appendRecord = commitStore(log, this.paths, doc, master, { op, ...(names ? { names } : {}), ...this.#actor });
        this.#master = master;
        try {
          appendRecord();
        } catch (err) {
          // The store already holds the change and its record: say so, rather than the usual "unchanged".
          const e = err as VaultError;
          throw new VaultError(
            e.code ?? 'VAULT_IO',
            `\`${op}\` was saved, but its audit line could not be written (${e.message}) The store keeps the record; ` +
              `the next sv command writes it to ${this.paths.audit} once that works (free space or fix the file).`,
            { cause: err },
          );
        }
      });
      return result;
    });
  }

  #decrypt(doc: StoreDoc, e: Entry, master = this.#master): Uint8Array {
    const value = open(subkey(master, 'secrets'), unb64(e.nonce), unb64(e.ciphertext), entryAad(doc.header.id, e.name, e.version));
    if (!value) {
      throw new VaultError('VAULT_TAMPERED', `the value of ${e.name} does not decrypt although the store's MAC holds; the store was forged with the key. Restore from a backup.`);
    }
    return value;
  }

  #seal(doc: StoreDoc, name: string, version: number, value: Uint8Array, master = this.#master): { nonce: string; ciphertext: string } {
    const s = seal(subkey(master, 'secrets'), value, entryAad(doc.header.id, name, version));
    return { nonce: b64(s.nonce), ciphertext: b64(s.ciphertext) };
  }

  async get(name: string): Promise<Uint8Array> {
    return (await this.getMany([checkName(name)], 'get')).get(name)!;
  }

  async getString(name: string): Promise<string> {
    return new TextDecoder().decode(await this.get(name));
  }

  async has(name: string): Promise<boolean> {
    checkName(name);
    return this.#open((doc) => doc.entries.some((e) => e.name === name));
  }

  async getMany(names?: string[], op = 'get-many'): Promise<Map<string, Uint8Array>> {
    names?.forEach(checkName);
    return this.#open((doc, log) => {
      const wanted = names ?? doc.entries.map((e) => e.name);
      const byName = new Map(doc.entries.map((e) => [e.name, e]));
      const missing = wanted.filter((n) => !byName.has(n));
      if (missing.length > 0) {
        this.#record(log, doc, { op, names: wanted, ok: false, detail: 'not found' });
        throw new VaultError('VAULT_NOT_FOUND', `no secret named ${missing.join(', ')}; \`sv list\` shows the names there are.`);
      }
      const out = new Map<string, Uint8Array>();
      for (const n of wanted) out.set(n, this.#decrypt(doc, byName.get(n)!));
      this.#record(log, doc, { op, names: wanted });
      return out;
    });
  }

  async set(name: string, value: Uint8Array | string, meta: SecretMeta = {}): Promise<SecretInfo> {
    checkName(name);
    const bytes = toBytes(value);
    if (bytes.length === 0) throw new VaultError('VAULT_BAD_INPUT', `the value for ${name} is empty; nothing was stored.`);
    if (bytes.length > MAX_VALUE_BYTES) throw new VaultError('VAULT_BAD_INPUT', `the value for ${name} is ${bytes.length} bytes; the limit is ${MAX_VALUE_BYTES}.`);
    checkMeta(meta);
    return this.#mutate('set', [name], (doc) => {
      const i = doc.entries.findIndex((e) => e.name === name);
      const old = i >= 0 ? doc.entries[i] : undefined;
      const version = (old?.version ?? 0) + 1;
      const t = now();
      const entry: Entry = {
        name,
        version,
        category: meta.category ?? old?.category ?? defaultCategory(name),
        tags: meta.tags ?? old?.tags ?? [],
        created: old?.created ?? t,
        updated: t,
        ...this.#seal(doc, name, version, bytes),
      };
      if (old) doc.entries[i] = entry; else doc.entries.push(entry);
      return info(entry);
    });
  }

  async list(): Promise<SecretInfo[]> {
    return this.#open((doc, log) => {
      this.#record(log, doc, { op: 'list' });
      return doc.entries.map(info);
    });
  }

  async remove(name: string): Promise<void> {
    checkName(name);
    await this.#mutate('rm', [name], (doc) => {
      const i = doc.entries.findIndex((e) => e.name === name);
      if (i < 0) throw new VaultError('VAULT_NOT_FOUND', `no secret named ${name}; nothing was removed.`);
      doc.entries.splice(i, 1);
    });
  }

  async split(count: number, threshold: number): Promise<string[]> {
    return this.#mutate('split', undefined, async (doc) => {
      const shares = await splitKey(this.#master, { vaultId: doc.header.id, keyId: doc.header.keyId }, count, threshold);
      doc.header.shares = { count, threshold, keyId: doc.header.keyId, created: now() };
      return shares;
    });
  }

  async verify(): Promise<VerifyReport> {
    return this.#open((doc, log) => {
      for (const e of doc.entries) this.#decrypt(doc, e);
      // #open checked every line of the log (whole), its head and its MACs against this store.
      const { entries } = log.check(anchorOf(doc), { key: auditKey(this.#master) });
      this.#record(log, doc, { op: 'verify' });
      return { ok: true as const, store: this.paths.store, generation: doc.header.generation, secrets: doc.entries.length, audit: { entries: entries + 1 } };
    }, true);
  }

  /** changePassword wraps the master key under a new password (and optionally new Argon2id parameters). */
  async changePassword(password: string | Uint8Array, kdf?: KdfParams): Promise<void> {
    if (toBytes(password).length === 0) throw new VaultError('VAULT_BAD_INPUT', 'the new password is empty; the password was not changed.');
    await this.#mutate('passwd', undefined, async (doc) => {
      const old = doc.header.slots.find((s): s is PasswordSlot => s.kind === 'password');
      const slot = await passwordSlot(doc.header.id, this.#master, password, kdf ?? old?.kdf ?? { ...DEFAULT_KDF });
      doc.header.slots = [slot, ...doc.header.slots.filter((s) => s.kind !== 'password')];
    });
  }

  /**
   * rekey replaces the master key: every secret is re-encrypted, the password (and the key file, when
   * given; otherwise its slot is dropped) wraps the new key, and every earlier share stops working.
   */
  async rekey(opts: { password: string | Uint8Array; keyFile?: string; shares?: { count: number; threshold: number } | null }): Promise<{ shares: string[]; keyFileDropped: boolean }> {
    const next = new Uint8Array(randomBytes(KEY_BYTES));
    const kid = keyId(next);
    return this.#mutate('rekey', undefined, async (doc) => {
      const { header } = doc;
      const pw = header.slots.find((s): s is PasswordSlot => s.kind === 'password');
      const hadKeyFile = header.slots.some((s) => s.kind === 'keyfile');
      doc.entries = doc.entries.map((e) => ({ ...e, ...this.#seal(doc, e.name, e.version, this.#decrypt(doc, e), next) }));
      header.slots = [await passwordSlot(header.id, next, opts.password, pw?.kdf ?? { ...DEFAULT_KDF })];
      if (opts.keyFile) header.slots.push(keyFileSlot(header.id, next, readKeyFile(opts.keyFile)));
      header.keyId = kid;
      const cfg = opts.shares === undefined ? (header.shares ? { count: header.shares.count, threshold: header.shares.threshold } : null) : opts.shares;
      const shares = cfg ? await splitKey(next, { vaultId: header.id, keyId: kid }, cfg.count, cfg.threshold) : [];
      header.shares = cfg ? { ...cfg, keyId: kid, created: now() } : null;
      return { shares, keyFileDropped: hadKeyFile && !opts.keyFile };
    }, next);
  }

  async close(): Promise<void> {
    this.#master.fill(0);
  }
}

const LABEL_RE = /^[\p{L}\p{N}_.@+=:-]{1,64}$/u;

/** checkMeta throws VAULT_BAD_INPUT unless the category and tags are short labels. */
function checkMeta(meta: SecretMeta): void {
  const labels = [...(meta.category !== undefined ? [meta.category] : []), ...(meta.tags ?? [])];
  if ((meta.tags !== undefined && !Array.isArray(meta.tags)) || labels.some((l) => typeof l !== 'string' || !LABEL_RE.test(l))) {
    throw new VaultError('VAULT_BAD_INPUT', 'categories and tags are labels of 1-64 letters, digits and _ . @ + = : -; nothing was stored.');
  }
}

function info(e: Entry): SecretInfo {
  return { name: e.name, version: e.version, category: e.category, tags: [...e.tags], created: e.created, updated: e.updated };
}
