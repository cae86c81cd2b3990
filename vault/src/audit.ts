import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mac, sameBytes, sha256Hex } from './crypto/keys.js';
import { VaultError } from './errors.js';
import { ioError } from './fsutil.js';
import { withLock } from './lock.js';
import { VaultPaths } from './paths.js';

/**
 * The audit log, `audit.jsonl`, is append-only JSON lines. Each line records one operation
 * (names, never values) and is chained to the one before it: `hash` is the SHA-256 of the previous
 * line's hash and this line's other fields, so an edited, dropped or reordered line breaks the chain.
 *
 * The log and the store vouch for each other, so that putting back an older copy of either is caught:
 * - the store (MACed) holds the record of its own last write; that record must be in the log, and a
 *   write whose record a crash kept out of the log is put back from the store at the next open;
 * - `audit.head` holds the last line's number, hash and the highest store generation the log has seen,
 *   MACed with a key from the master key: a log shorter than its head was truncated, one whose line
 *   differs from the head was rewritten, and a store older than the head's generation was rolled back;
 * - every line also carries an HMAC of its hash (`mac`), so a line added after the head is forged
 *   unless it verifies.
 * Only putting back older copies of all three at once (the whole folder) goes unseen.
 */

export const GENESIS = '0'.repeat(64);

/** AuditEvent is what a caller records: an operation and the secret names it touched. */
export interface AuditEvent {
  op: string;
  names?: string[];
  via: 'local' | 'agent';
  pid: number;
  /** the caller's uid (through the agent: as the kernel reports it for the connection) */
  uid?: number;
  ok?: boolean;
  detail?: string;
}

/** AuditRecord is one line of the log. */
export interface AuditRecord extends AuditEvent {
  seq: number;
  ts: string;
  gen: number;
  prev: string;
  hash: string;
  /** HMAC-SHA256 of `hash` under the audit key (lines written before this field existed have none) */
  mac?: string;
}

/** AuditHead is `audit.head`: how far the log has been written, and the newest store generation it saw. */
export interface AuditHead {
  seq: number;
  hash: string;
  gen: number;
  mac: string;
}

/** StoreAnchor is what the store says about the log: its generation and the record of its own last write. */
export interface StoreAnchor {
  generation: number;
  record?: AuditRecord;
}

/** AuditReport is the result of walking the whole chain. */
export interface AuditReport {
  ok: boolean;
  entries: number;
  /** whether the MACs were checked (they need the master key) */
  macs: boolean;
  /** 1-based line number of the first broken line, when not ok */
  brokenAt?: number;
  problem?: string;
  /** VAULT_AUDIT_BROKEN, or VAULT_ROLLBACK when the store is older than the log */
  code?: 'VAULT_AUDIT_BROKEN' | 'VAULT_ROLLBACK';
}

const HEX64 = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();

function hashOf(rec: Omit<AuditRecord, 'hash' | 'mac'> & { hash?: string; mac?: string }): string {
  const { hash: _h, mac: _m, ...rest } = rec;
  return sha256Hex(`${rest.prev}\n${JSON.stringify({ ...rest, prev: undefined })}`);
}
const hexMac = (key: Uint8Array, text: string): string => Buffer.from(mac(key, utf8.encode(text))).toString('hex');
const lineMac = (key: Uint8Array, hash: string): string => hexMac(key, `meshpop-vault/1 audit-line ${hash}`);
const headMac = (key: Uint8Array, h: Omit<AuditHead, 'mac'>): string => hexMac(key, `meshpop-vault/1 audit-head ${h.seq} ${h.hash} ${h.gen}`);
const macOk = (want: string, got: string): boolean => sameBytes(Buffer.from(want, 'hex'), Buffer.from(got, 'hex'));

/** AuditProblem is a broken log: the line it breaks at and why. */
class AuditProblem extends Error {
  constructor(readonly line: number, readonly problem: string, readonly rollback = false) {
    super(problem);
  }
}

/** parseRecord reads one line as a record, or says what is wrong with it. */
export function parseRecord(text: string): AuditRecord | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not a JSON line';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a record (a JSON object)';
  const r = v as Record<string, unknown>;
  const count = (x: unknown, min: number): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= min;
  if (!count(r.seq, 1) || !count(r.gen, 0) || !count(r.pid, 0) || (r.uid !== undefined && !count(r.uid, 0))) return 'seq, gen, pid or uid is not a count';
  if (typeof r.ts !== 'string' || typeof r.op !== 'string' || (r.via !== 'local' && r.via !== 'agent')) return 'ts, op or via is missing';
  if (typeof r.prev !== 'string' || !HEX64.test(r.prev) || typeof r.hash !== 'string' || !HEX64.test(r.hash)) return 'prev or hash is not a SHA-256';
  if (r.mac !== undefined && (typeof r.mac !== 'string' || !HEX64.test(r.mac))) return 'mac is not an HMAC-SHA256';
  if (r.names !== undefined && !(Array.isArray(r.names) && r.names.every((n) => typeof n === 'string'))) return 'names is not a list of names';
  if ((r.ok !== undefined && typeof r.ok !== 'boolean') || (r.detail !== undefined && typeof r.detail !== 'string')) return 'ok or detail has the wrong type';
  const rec = r as unknown as AuditRecord;
  if (hashOf(rec) !== rec.hash) return 'its contents do not match its hash (edited)';
  return rec;
}

/** Tail is the end of the log: whole records, in order, and where a torn last piece (a cut-off write) starts. */
interface Tail {
  records: AuditRecord[];
  /** true when `records` start at the first line of the file */
  fromStart: boolean;
  /** byte offset of a last piece without its newline, if any */
  tornAt?: number;
}

/**
 * readTail reads the log back from its end until it holds the line `fromSeq` (0: the whole file).
 * Every whole line read must be a record chained to the one before it; else an AuditProblem says
 * which line. A missing log reads as empty.
 */
function readTail(file: string, fromSeq: number): Tail {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], fromStart: true };
    throw ioError(err, 'reading', file);
  }
  try {
    const size = fstatSync(fd).size;
    for (let span = 8192; ; span *= 4) {
      const start = fromSeq === 0 ? 0 : Math.max(0, size - span);
      const buf = Buffer.alloc(size - start);
      let off = 0;
      while (off < buf.length) {
        const n = readSync(fd, buf, off, buf.length - off, start + off);
        if (n === 0) break;
        off += n;
      }
      const text = buf.subarray(0, off).toString('utf8');
      const pieces = text.split('\n');
      const last = pieces.pop()!;
      const tornAt = last === '' ? undefined : size - Buffer.byteLength(last, 'utf8');
      // Away from the start of the file, the first piece may be the end of a line cut by the window.
      const lines = start === 0 ? pieces : pieces.slice(1);
      const records: AuditRecord[] = [];
      let retry = false;
      for (let i = 0; i < lines.length; i++) {
        const before = records[i - 1];
        const lineNo = start === 0 ? i + 1 : before ? before.seq + 1 : undefined;
        const rec = parseRecord(lines[i]!);
        const problem =
          typeof rec === 'string' ? rec
            : before && rec.seq !== before.seq + 1 ? `sequence ${rec.seq}, expected ${before.seq + 1} (a line was removed or reordered)`
              : before && rec.prev !== before.hash ? 'does not link to the line before it'
                : start === 0 && i === 0 && (rec.seq !== 1 || rec.prev !== GENESIS) ? `the log starts at sequence ${rec.seq}, not 1 (its beginning was removed)`
                  : undefined;
        if (problem) {
          if (lineNo === undefined) { retry = true; break; } // its line number is further back
          throw new AuditProblem(lineNo, problem);
        }
        records.push(rec as AuditRecord);
      }
      const reached = start === 0 || (records.length > 0 && records[0]!.seq <= Math.max(fromSeq, 1));
      if (!retry && reached) return { records, fromStart: start === 0, ...(tornAt !== undefined ? { tornAt } : {}) };
    }
  } finally {
    closeSync(fd);
  }
}

function readHead(file: string): AuditHead | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(err, 'reading', file);
  }
  try {
    const h = JSON.parse(text) as AuditHead;
    if (Number.isSafeInteger(h.seq) && h.seq >= 1 && Number.isSafeInteger(h.gen) && HEX64.test(h.hash) && HEX64.test(h.mac)) return h;
  } catch { /* below */ }
  throw new AuditProblem(0, `${file} is damaged`);
}

/**
 * AuditLog is the log opened under its lock: its head, its tail, and the checks that tie it to a store.
 * Get one with `AuditLog.open`; it is valid only inside the callback.
 */
export class AuditLog {
  readonly paths: VaultPaths;
  #head: AuditHead | undefined;
  #tail: Tail;

  private constructor(paths: VaultPaths, head: AuditHead | undefined, tail: Tail) {
    this.paths = paths;
    this.#head = head;
    this.#tail = tail;
  }

  /** open runs `fn` with the log under its lock; `whole` reads every line (for a full verification). */
  static async open<T>(paths: VaultPaths, fn: (log: AuditLog) => T | Promise<T>, whole = false): Promise<T> {
    return withLock(paths.auditLock, () => fn(AuditLog.read(paths, whole)));
  }

  /** read reads the log without its lock (for reports that change nothing). */
  static read(paths: VaultPaths, whole: boolean): AuditLog {
    try {
      return AuditLog.#read(paths, whole);
    } catch (err) {
      throw err instanceof AuditProblem ? brokenError(paths.audit, err) : err;
    }
  }

  static #read(paths: VaultPaths, whole: boolean): AuditLog {
    const head = readHead(paths.auditHead);
    return new AuditLog(paths, head, readTail(paths.audit, whole ? 0 : (head?.seq ?? 1)));
  }

  /** inspect reads the whole log without its lock and checks it against `store` (with `key`: also the MACs); it reports, never throws, a broken log. */
  static inspect(paths: VaultPaths, store: StoreAnchor | undefined, key?: Uint8Array): AuditReport {
    let log: AuditLog;
    try {
      log = AuditLog.#read(paths, true);
    } catch (err) {
      if (!(err instanceof AuditProblem)) throw err;
      return { ok: false, entries: 0, macs: false, ...(err.line > 0 ? { brokenAt: err.line } : {}), problem: brokenError(paths.audit, err).message, code: 'VAULT_AUDIT_BROKEN' };
    }
    return log.report(store, key);
  }

  /** last is the last record of the log. */
  get last(): AuditRecord | undefined {
    return this.#tail.records[this.#tail.records.length - 1];
  }

  /**
   * check throws VAULT_AUDIT_BROKEN or VAULT_ROLLBACK unless the log and `store` agree (see the top of this
   * file). With `key` it also checks the MACs; with `repair` it puts back the store's record of a write that a
   * crash kept out of the log (else that record counts as `pending`). Returns the number of lines.
   */
  check(store: StoreAnchor, opts: { key?: Uint8Array; repair?: boolean } = {}): { entries: number; pending?: number } {
    try {
      return this.#check(store, opts);
    } catch (err) {
      throw err instanceof AuditProblem ? problemError(this.paths.audit, store, err) : err;
    }
  }

  /** report is `check` as an AuditReport: a broken log is reported, not thrown. */
  report(store: StoreAnchor | undefined, key?: Uint8Array): AuditReport {
    const macs = key !== undefined && store !== undefined;
    try {
      const { entries } = store ? this.#check(store, key ? { key } : {}) : { entries: this.last?.seq ?? 0 };
      return { ok: true, entries, macs };
    } catch (err) {
      if (!(err instanceof AuditProblem)) throw err;
      const e = problemError(this.paths.audit, store!, err);
      return { ok: false, entries: this.last?.seq ?? 0, macs, ...(err.line > 0 ? { brokenAt: err.line } : {}), problem: e.message, code: e.code as AuditReport['code'] };
    }
  }

  #check(store: StoreAnchor, opts: { key?: Uint8Array; repair?: boolean }): { entries: number; pending?: number } {
    const { key } = opts;
    const rec = store.record;
    let pending: number | undefined;
    // A write whose process stopped between the store's rename and the log's append: its record is in the store.
    const last = this.last;
    if (rec && (last?.seq ?? 0) === rec.seq - 1 && (last?.hash ?? GENESIS) === rec.prev) {
      if (key && !(rec.mac && macOk(lineMac(key, rec.hash), rec.mac))) throw new AuditProblem(rec.seq, "the store's record of its last write does not verify");
      pending = rec.seq; // appended below, once everything else holds (a tampered log is left as it was found)
    }
    const records = pending ? [...this.#tail.records, rec!] : this.#tail.records;
    const lastSeq = records[records.length - 1]?.seq ?? 0;
    const head = this.#head;
    let newest = Math.max(0, ...records.map((r) => r.gen));
    if (rec) {
      // A store that records its writes has a head; the lines up to the head are pinned by it through the chain.
      if (!head) throw new AuditProblem(0, `${this.paths.auditHead} is missing (removed, or rolled back with the log)`);
      // A head behind the store's record is pinned by that record (and may carry the key from before a rekey).
      if (key && head.seq > rec.seq && !macOk(headMac(key, head), head.mac)) throw new AuditProblem(0, `${this.paths.auditHead} does not verify (edited)`);
      if (lastSeq < head.seq) throw new AuditProblem(lastSeq + 1, `the log ends at line ${lastSeq} but had reached line ${head.seq}: it was truncated, emptied or replaced`);
      const at = records.find((r) => r.seq === head.seq);
      if (!at || at.hash !== head.hash) throw new AuditProblem(head.seq, 'it is not the line the log had there (the log was rewritten)');
      // Lines after both the head and the store's record are vouched for by their MACs alone.
      for (const r of records) {
        if (key && r.seq > Math.max(head.seq, rec.seq) && !(r.mac && macOk(lineMac(key, r.hash), r.mac))) {
          throw new AuditProblem(r.seq, r.mac ? 'its MAC does not verify (forged or re-chained)' : 'it has no MAC (added by hand)');
        }
      }
      if (rec.seq > lastSeq) throw new AuditProblem(lastSeq + 1, `the store records line ${rec.seq} but the log ends at line ${lastSeq}: lines were removed`);
      if (rec.seq > head.seq) {
        const mine = records.find((r) => r.seq === rec.seq);
        if (!mine || mine.hash !== rec.hash) throw new AuditProblem(rec.seq, "it is not the store's record of its last write (the log was rewritten)");
      } else if (head.gen < store.generation) {
        throw new AuditProblem(head.seq, `the head saw generation ${head.gen}, older than the store's ${store.generation} (the log was rolled back)`);
      }
      newest = Math.max(newest, head.gen);
    } else if (head && head.seq <= lastSeq) {
      // A store from before records existed, put back after the vault took them: the head saw its successors.
      // (A head beyond the log here is a first record whose write was killed before its store's rename.)
      newest = Math.max(newest, head.gen);
    }
    if (newest > store.generation) throw new AuditProblem(0, String(newest), true);
    if (pending && opts.repair) {
      this.#appendLine(rec!);
      pending = undefined;
    }
    return { entries: lastSeq, ...(pending ? { pending } : {}) };
  }

  /** next builds the record that appending `ev` at store generation `gen` would write. */
  next(gen: number, ev: AuditEvent, key: Uint8Array): AuditRecord {
    const last = this.last;
    const base = {
      seq: last ? last.seq + 1 : 1,
      ts: new Date().toISOString(),
      gen,
      op: ev.op,
      ...(ev.names ? { names: ev.names } : {}),
      via: ev.via,
      pid: ev.pid,
      ...(ev.uid !== undefined ? { uid: ev.uid } : {}),
      ...(ev.ok === false ? { ok: false } : {}),
      ...(ev.detail ? { detail: ev.detail } : {}),
      prev: last?.hash ?? GENESIS,
    };
    const hash = hashOf(base);
    return { ...base, hash, mac: lineMac(key, hash) };
  }

  /**
   * append writes `rec` (made by `next`) as the log's next line, fsyncs it, then moves the head to it.
   * A reader must not see a secret unless its read was recorded, so callers append before they hand out a value.
   */
  append(rec: AuditRecord, key: Uint8Array): void {
    this.#appendLine(rec);
    this.writeHead(rec, key);
  }

  /** writeHead moves `audit.head` to `rec` (crash-safe: temp file, fsync, rename). */
  writeHead(rec: AuditRecord, key: Uint8Array): void {
    const h = { seq: rec.seq, hash: rec.hash, gen: Math.max(rec.gen, this.#head?.gen ?? 0) };
    const head: AuditHead = { ...h, mac: headMac(key, h) };
    const file = this.paths.auditHead;
    const tmp = `${file}.tmp`;
    let fd: number | undefined;
    try {
      // A temp file left by a killed writer is removed, not written through (it could be anything by now).
      try { unlinkSync(tmp); } catch { /* none left */ }
      fd = openSync(tmp, 'wx', 0o600);
      writeSync(fd, JSON.stringify(head) + '\n');
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, file);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      throw ioError(err, 'writing', file);
    }
    this.#head = head;
  }

  #appendLine(rec: AuditRecord): void {
    const file = this.paths.audit;
    const line = Buffer.from(JSON.stringify(rec) + '\n', 'utf8');
    let fd: number | undefined;
    try {
      fd = openSync(file, 'a+', 0o600);
      // A crash mid-append leaves a piece without its newline after the last whole line: cut it off.
      if (this.#tail.tornAt !== undefined && fstatSync(fd).size > this.#tail.tornAt) ftruncateSync(fd, this.#tail.tornAt);
      writeSync(fd, line);
      fsyncSync(fd);
    } catch (err) {
      throw ioError(err, 'appending to the audit log', file);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    delete this.#tail.tornAt;
    this.#tail.records.push(rec);
  }

  /** records returns the records read (all of them when opened `whole`). */
  records(): AuditRecord[] {
    return [...this.#tail.records];
  }

  /** torn tells whether the log ends in a cut-off line (a crash mid-append; the next append removes it). */
  get torn(): boolean {
    return this.#tail.tornAt !== undefined;
  }
}

function brokenError(file: string, p: AuditProblem): VaultError {
  const where = p.line > 0 ? ` at line ${p.line}` : '';
  return new VaultError('VAULT_AUDIT_BROKEN', `the audit log ${file} is broken${where}: ${p.problem}. Keep a copy for investigation; once it is looked into, \`sv audit --reset\` keeps it aside and starts a new log.`);
}

function problemError(file: string, store: StoreAnchor, p: AuditProblem): VaultError {
  if (!p.rollback) return brokenError(file, p);
  return new VaultError(
    'VAULT_ROLLBACK',
    `the vault store is at generation ${store.generation} but the audit log has seen generation ${p.problem}: ` +
      'an older copy of the store was put back (rollback). Nothing was changed; restore the newest store (or, if this one is to be kept, `sv audit --reset`).',
  );
}

/** readAudit returns every record of the log; a malformed or broken line is VAULT_AUDIT_BROKEN with its line number. */
export function readAudit(paths: VaultPaths): AuditRecord[] {
  return AuditLog.read(paths, true).records();
}

/**
 * inspectAudit walks the whole log of the vault at `paths` and checks it against `store` (the store's
 * anchor; without one, only the chain) as far as can be done without a key; `key` adds the MACs.
 * A broken log is reported, not thrown.
 */
export function inspectAudit(paths: VaultPaths, store?: StoreAnchor, key?: Uint8Array): AuditReport {
  return AuditLog.inspect(paths, store, key);
}
