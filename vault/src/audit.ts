import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { sha256Hex } from './crypto/keys.js';
import { VaultError } from './errors.js';
import { ioError } from './fsutil.js';
import { withLock } from './lock.js';

/**
 * The audit log, `audit.jsonl`, is append-only JSON lines. Each line records one operation
 * (names, never values) and is chained to the one before it: `hash` is the SHA-256 of the previous
 * line's hash and this line's other fields, so an edited, dropped or reordered line breaks the chain.
 * Every line also carries the store generation it saw, which is how a rolled-back store is caught.
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
}

function hashOf(rec: Omit<AuditRecord, 'hash'>): string {
  return sha256Hex(`${rec.prev}\n${JSON.stringify({ ...rec, prev: undefined })}`);
}

/** lastRecord returns the last complete line of the log, reading only its tail. */
export function lastRecord(file: string): AuditRecord | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(err, 'reading', file);
  }
  try {
    const size = fstatSync(fd).size;
    for (let span = 4096; ; span *= 4) {
      const start = Math.max(0, size - span);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const text = buf.toString('utf8');
      const lines = text.split('\n');
      // The last piece is '' after a final newline, or a torn line from a crash: skip it.
      lines.pop();
      const usable = start === 0 ? lines : lines.slice(1);
      for (let i = usable.length - 1; i >= 0; i--) {
        try {
          return JSON.parse(usable[i]!) as AuditRecord;
        } catch {
          /* a damaged line: look further back; `sv audit --verify` reports it */
        }
      }
      if (start === 0) return undefined;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * appendAudit adds one chained line to the log under its lock and fsyncs it. A reader must not
 * see a secret unless its read was recorded, so callers append before they hand out a value.
 */
export async function appendAudit(file: string, lockFile: string, gen: number, ev: AuditEvent): Promise<AuditRecord> {
  return withLock(lockFile, () => {
    const last = lastRecord(file);
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
    const rec: AuditRecord = { ...base, hash: hashOf(base) };
    const line = Buffer.from(JSON.stringify(rec) + '\n', 'utf8');
    let fd: number | undefined;
    try {
      fd = openSync(file, 'a+', 0o600);
      // After a crash mid-append the file can end in a torn line: start ours on a line of its own.
      const size = fstatSync(fd).size;
      const tail = Buffer.alloc(1);
      if (size > 0 && readSync(fd, tail, 0, 1, size - 1) === 1 && tail[0] !== 0x0a) writeSync(fd, '\n');
      writeSync(fd, line);
      fsyncSync(fd);
    } catch (err) {
      throw ioError(err, 'appending to the audit log', file);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return rec;
  });
}

/** AuditReport is the result of walking the whole chain. */
export interface AuditReport {
  ok: boolean;
  entries: number;
  /** 1-based line number of the first broken link, when not ok */
  brokenAt?: number;
  problem?: string;
}

/** readAudit returns every record of the log (damaged lines are skipped; verifyAudit finds them). */
export function readAudit(file: string): AuditRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError(err, 'reading', file);
  }
  const out: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try { out.push(JSON.parse(line) as AuditRecord); } catch { /* skipped */ }
  }
  return out;
}

/** verifyAudit walks the chain from the first line and reports the first line that breaks it. */
export function verifyAudit(file: string): AuditReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, entries: 0 };
    throw ioError(err, 'reading', file);
  }
  const lines = text.split('\n');
  const torn = lines.pop() !== '';
  let prev = GENESIS;
  for (let i = 0; i < lines.length; i++) {
    const broken = (problem: string): AuditReport => ({ ok: false, entries: i, brokenAt: i + 1, problem });
    let rec: AuditRecord;
    try {
      rec = JSON.parse(lines[i]!) as AuditRecord;
    } catch {
      return broken('not a JSON line');
    }
    if (rec.seq !== i + 1) return broken(`sequence ${rec.seq}, expected ${i + 1} (a line was removed or reordered)`);
    if (rec.prev !== prev) return broken('does not link to the line before it');
    const { hash, ...rest } = rec;
    if (hashOf(rest) !== hash) return broken('its contents do not match its hash (edited)');
    prev = hash;
  }
  if (torn) return { ok: false, entries: lines.length, brokenAt: lines.length + 1, problem: 'last line is incomplete (a write was cut off)' };
  return { ok: true, entries: lines.length };
}

/** auditBroken is the error for a log that fails verification. */
export function auditBroken(file: string, r: AuditReport): VaultError {
  return new VaultError('VAULT_AUDIT_BROKEN', `the audit log ${file} is broken at line ${r.brokenAt}: ${r.problem}. Keep a copy for investigation.`);
}
