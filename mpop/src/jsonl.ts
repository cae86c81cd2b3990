import { closeSync, constants, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * appendJsonLine appends `entry` as one JSON line to `file` (made 0600, its folder 0700): O_APPEND and one
 * write(2) of the whole line, so concurrent writers never interleave, then fsync, so a crash loses nothing written.
 * mpop's audit logs (heal fixes, secrets, dashboard actions) are written through it.
 */
export function appendJsonLine(file: string, entry: unknown): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const line = Buffer.from(JSON.stringify(entry) + '\n');
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    for (let off = 0; off < line.length; ) off += writeSync(fd, line, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
