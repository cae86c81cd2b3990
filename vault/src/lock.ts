import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { VaultError } from './errors.js';
import { ioError } from './fsutil.js';

/** pidAlive tells whether a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryAcquire(file: string): boolean {
  try {
    const fd = openSync(file, 'wx', 0o600);
    try { writeSync(fd, `${process.pid}\n`); } finally { closeSync(fd); }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(err, 'locking', file);
  }
  let holder = NaN;
  try {
    holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
  } catch {
    return false; // released between our open and read: try again
  }
  if (!pidAlive(holder) && !Number.isNaN(holder)) {
    try { unlinkSync(file); } catch { /* someone else cleared it */ }
  }
  return false;
}

/**
 * withLock runs `fn` while holding an exclusive lock file (O_EXCL, holder pid inside). A lock left by
 * a dead process is taken over; a live holder is waited for up to `timeoutMs`, then VAULT_BUSY.
 */
export async function withLock<T>(file: string, fn: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2; !tryAcquire(file); delay = Math.min(delay * 2, 50)) {
    if (Date.now() > deadline) {
      let holder = '?';
      try { holder = readFileSync(file, 'utf8').trim(); } catch { /* gone */ }
      throw new VaultError('VAULT_BUSY', `another sv process (pid ${holder}) holds ${file}; wait for it to finish and retry.`);
    }
    await sleep(delay + Math.random() * delay);
  }
  try {
    return await fn();
  } finally {
    try { unlinkSync(file); } catch { /* best effort */ }
  }
}
