import { closeSync, fsyncSync, mkdirSync, openSync, writeSync, constants } from 'node:fs';
import { dirname } from 'node:path';

/** AuditEntry is one fix as the audit log keeps it: never a secret (commands and results only, outputs capped). */
export interface AuditEntry {
  time: string;
  node: string;
  check: string;
  action: string;
  result: 'fixed' | 'still failing' | 'fix failed';
  before: { status: string; diagnosis: string };
  after: { status: string; diagnosis: string } | null;
  detail: string;
  freedBytes?: number;
}

/** appendAudit appends one JSON line to the audit log (O_APPEND, then fsync) so that concurrent writers never interleave and a crash loses nothing written. */
export function appendAudit(file: string, entry: AuditEntry): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const line = Buffer.from(JSON.stringify(entry) + '\n');
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    // One write(2) of the whole line: with O_APPEND it lands at the end in one piece.
    let off = 0;
    while (off < line.length) off += writeSync(fd, line, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
