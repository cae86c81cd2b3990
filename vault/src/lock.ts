import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
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
  let fd: number | undefined;
  try {
    fd = openSync(file, 'wx', 0o600);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      // Created but could not write our pid (a full disk): never leave an anonymous lock behind.
      if (fd !== undefined) {
        closeSync(fd);
        try { unlinkSync(file); } catch { /* gone */ }
      }
      throw ioError(err, 'locking', file);
    }
  }
  let holder = NaN;
  let age = 0;
  try {
    holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    age = Date.now() - statSync(file).mtimeMs;
  } catch {
    return false; // released between our open and read: try again
  }
  // A lock whose holder is dead is stale; so is one that has held no pid for a while (a crash between
  // its creation and the write of the pid). A fresh empty one may be another process mid-acquire.
  if (Number.isNaN(holder) ? age > 5_000 : !pidAlive(holder)) {
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
