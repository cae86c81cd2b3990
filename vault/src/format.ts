import { AuditRecord, parseRecord } from './audit.js';
import { KdfParams, kdfParamsProblem } from './crypto/kdf.js';
import { mac, sameBytes, sha256Hex } from './crypto/keys.js';
import { VaultError } from './errors.js';

/**
 * The store file, `store.sv`, is text, one JSON document per line:
 *
 *   meshpop-vault 1
 *   {header}
 *   {entry}            one line per secret, sorted by name
 *   sha256 <hex>       SHA-256 of every byte above: finds accidental damage before any password is asked
 *   hmac <hex>         HMAC-SHA256 of the same bytes under a key derived from the master key:
 *                      finds deliberate changes, deleted and swapped entries
 *
 * Secret values are AES-256-GCM ciphertexts; names, categories, tags and dates are in the clear
 * (like `pass`, whose file names are). Any change to any byte is refused by one of the two checks.
 */

export const MAGIC_LINE = 'meshpop-vault 1';

/** PasswordSlot wraps the master key under a key that Argon2id derives from the password. */
export interface PasswordSlot {
  kind: 'password';
  kdf: KdfParams;
  salt: string;
  nonce: string;
  wrapped: string;
}

/** KeyFileSlot wraps the master key under a key that HKDF derives from a key file's bytes. */
export interface KeyFileSlot {
  kind: 'keyfile';
  salt: string;
  nonce: string;
  wrapped: string;
}

export type Slot = PasswordSlot | KeyFileSlot;

/** SharesInfo records the last Shamir split of the master key (never the shares themselves). */
export interface SharesInfo {
  count: number;
  threshold: number;
  keyId: string;
  created: string;
}

/** StoreHeader is the public part of the store: identity, generation, and how to unlock it. */
export interface StoreHeader {
  id: string;
  created: string;
  generation: number;
  keyId: string;
  slots: Slot[];
  shares: SharesInfo | null;
  /** the audit record of the write that made this store (absent in stores written before it existed) */
  audit?: AuditRecord;
}

/** Entry is one secret: metadata in the clear, value sealed with the name and version as AAD. */
export interface Entry {
  name: string;
  version: number;
  category: string;
  tags: string[];
  created: string;
  updated: string;
  nonce: string;
  ciphertext: string;
}

export interface StoreDoc {
  header: StoreHeader;
  entries: Entry[];
}

/** ParsedStore is a store whose checksum held; `content` is what the MAC covers. */
export interface ParsedStore {
  doc: StoreDoc;
  content: Uint8Array;
  mac: Uint8Array;
}

function corrupt(file: string, why: string): VaultError {
  return new VaultError(
    'VAULT_CORRUPT',
    `the vault store ${file} is damaged (${why}). Nothing was changed; restore it from a backup or an export (sv import).`,
  );
}

/** parseStore reads the bytes of a store file and checks its structure and checksum (no key needed). */
export function parseStore(bytes: Uint8Array, file: string): ParsedStore {
  const text = Buffer.from(bytes).toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(Buffer.from(bytes))) throw corrupt(file, 'not valid UTF-8');
  if (!text.endsWith('\n')) throw corrupt(file, 'truncated: no final newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 4) throw corrupt(file, 'truncated: too few lines');
  if (lines[0] !== MAGIC_LINE) throw corrupt(file, `first line is not "${MAGIC_LINE}"`);
  const macLine = lines[lines.length - 1]!;
  const sumLine = lines[lines.length - 2]!;
  const m1 = /^sha256 ([0-9a-f]{64})$/.exec(sumLine);
  const m2 = /^hmac ([0-9a-f]{64})$/.exec(macLine);
  if (!m1 || !m2) throw corrupt(file, 'checksum lines missing or malformed');
  const contentText = lines.slice(0, -2).join('\n') + '\n';
  const content = Buffer.from(contentText, 'utf8');
  if (sha256Hex(content) !== m1[1]) throw corrupt(file, 'checksum mismatch');
  let header: StoreHeader;
  const entries: Entry[] = [];
  try {
    header = checkHeader(JSON.parse(lines[1]!));
    for (const line of lines.slice(2, -2)) entries.push(checkEntry(JSON.parse(line)));
  } catch (err) {
    if (err instanceof VaultError) throw err;
    throw corrupt(file, err instanceof Error ? err.message : String(err));
  }
  for (let i = 1; i < entries.length; i++) {
    if (entries[i - 1]!.name >= entries[i]!.name) throw corrupt(file, 'entries out of order or duplicated');
  }
  return { doc: { header, entries }, content, mac: Buffer.from(m2[1]!, 'hex') };
}

/** checkMac throws VAULT_TAMPERED unless the store's MAC verifies under `macKey`. */
export function checkMac(parsed: ParsedStore, macKey: Uint8Array, file: string): void {
  if (!sameBytes(mac(macKey, parsed.content), parsed.mac)) {
    throw new VaultError(
      'VAULT_TAMPERED',
      `the vault store ${file} fails its integrity check: it was changed outside sv (an edited, deleted or swapped entry). ` +
        'Nothing was changed; restore it from a backup or an export.',
    );
  }
}

/** serializeStore renders a store document with its checksum and MAC. */
export function serializeStore(doc: StoreDoc, macKey: Uint8Array): Buffer {
  const entries = [...doc.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = [MAGIC_LINE, JSON.stringify(doc.header), ...entries.map((e) => JSON.stringify(e))];
  const content = Buffer.from(lines.join('\n') + '\n', 'utf8');
  const sum = sha256Hex(content);
  const tag = Buffer.from(mac(macKey, content)).toString('hex');
  return Buffer.concat([content, Buffer.from(`sha256 ${sum}\nhmac ${tag}\n`, 'utf8')]);
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not an object`);
  return v as Obj;
}
function str(o: Obj, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new Error(`${what}.${k} is not a string`);
  return v;
}
function int(o: Obj, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${what}.${k} is not a count`);
  return v;
}
function b64(o: Obj, k: string, what: string, bytes?: number): string {
  const v = str(o, k, what);
  const decoded = Buffer.from(v, 'base64');
  if (decoded.toString('base64') !== v || (bytes !== undefined && decoded.length !== bytes)) {
    throw new Error(`${what}.${k} is not ${bytes ?? 'valid'} bytes of base64`);
  }
  return v;
}

function checkSlot(v: unknown): Slot {
  const o = obj(v, 'slot');
  const kind = o.kind;
  const base = { salt: b64(o, 'salt', 'slot', 32), nonce: b64(o, 'nonce', 'slot', 12), wrapped: b64(o, 'wrapped', 'slot', 48) };
  if (kind === 'password') {
    const k = obj(o.kdf, 'slot.kdf');
    if (k.algorithm !== 'argon2id') throw new Error('slot.kdf.algorithm is not argon2id');
    const kdf: KdfParams = {
      algorithm: 'argon2id',
      memoryKiB: int(k, 'memoryKiB', 'kdf'),
      iterations: int(k, 'iterations', 'kdf'),
      parallelism: int(k, 'parallelism', 'kdf'),
    };
    // The checksum held, so these were written deliberately; sv never writes parameters out of range.
    // Refuse them before Argon2id runs, so an edited header cannot make an unlock cost what it likes.
    const problem = kdfParamsProblem(kdf);
    if (problem) {
      throw new VaultError(
        'VAULT_TAMPERED',
        `the vault store asks for Argon2id parameters sv never writes (${problem}): its header was edited. Nothing was changed; restore the store from a backup.`,
      );
    }
    return { kind, kdf, ...base };
  }
  if (kind === 'keyfile') return { kind, ...base };
  throw new Error(`unknown slot kind ${JSON.stringify(kind)}`);
}

function checkHeader(v: unknown): StoreHeader {
  const o = obj(v, 'header');
  const id = str(o, 'id', 'header');
  if (!/^[0-9a-f]{32}$/.test(id)) throw new Error('header.id is not 32 hex digits');
  const keyId = str(o, 'keyId', 'header');
  if (!/^[0-9a-f]{8}$/.test(keyId)) throw new Error('header.keyId is not 8 hex digits');
  if (!Array.isArray(o.slots) || o.slots.length === 0) throw new Error('header.slots is empty');
  let shares: SharesInfo | null = null;
  if (o.shares !== null) {
    const s = obj(o.shares, 'header.shares');
    shares = {
      count: int(s, 'count', 'shares'),
      threshold: int(s, 'threshold', 'shares'),
      keyId: str(s, 'keyId', 'shares'),
      created: str(s, 'created', 'shares'),
    };
  }
  let audit: AuditRecord | undefined;
  if (o.audit !== undefined) {
    const rec = parseRecord(JSON.stringify(o.audit));
    if (typeof rec === 'string') throw new Error(`header.audit: ${rec}`);
    audit = rec;
  }
  return {
    id,
    created: str(o, 'created', 'header'),
    generation: int(o, 'generation', 'header'),
    keyId,
    slots: o.slots.map(checkSlot),
    shares,
    ...(audit ? { audit } : {}),
  };
}

function checkEntry(v: unknown): Entry {
  const o = obj(v, 'entry');
  const tags = o.tags;
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new Error('entry.tags is not a list of strings');
  return {
    name: str(o, 'name', 'entry'),
    version: int(o, 'version', 'entry'),
    category: str(o, 'category', 'entry'),
    tags: tags as string[],
    created: str(o, 'created', 'entry'),
    updated: str(o, 'updated', 'entry'),
    nonce: b64(o, 'nonce', 'entry', 12),
    ciphertext: b64(o, 'ciphertext', 'entry'),
  };
}
