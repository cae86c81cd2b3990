import { closeSync, fsyncSync, mkdirSync, openSync, writeSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';

/** dashboardAuditFile is where the dashboard records every confirmed action, one JSON line each. */
export const dashboardAuditFile = (home: string): string => join(home, 'mpop', 'dashboard-audit.jsonl');

/** appendLine appends one JSON line (O_APPEND, one write, then fsync). */
export function appendLine(file: string, entry: unknown): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const line = Buffer.from(JSON.stringify(entry) + '\n');
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    let off = 0;
    while (off < line.length) off += writeSync(fd, line, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
