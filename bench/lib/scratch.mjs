import { accessSync, constants, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * scratchBase returns where to put `bytes` of benchmark data: /dev/shm when it is a writable folder with
 * that much free (memory, so no disk is timed), else the OS temp dir. `onDisk` says which it is.
 */
export function scratchBase(bytes) {
  try {
    accessSync('/dev/shm', constants.W_OK);
    const fs = statfsSync('/dev/shm');
    if (fs.bavail * fs.bsize > bytes) return { base: '/dev/shm', onDisk: false };
  } catch {
    /* no /dev/shm */
  }
  return { base: tmpdir(), onDisk: true };
}

/** where says in words where scratchBase put the data. */
export function where({ base, onDisk }) {
  return onDisk ? `in ${base} on disk (so written data goes to the page cache, and may be written back to disk during later runs)` : `in ${base} (tmpfs, memory: no disk is involved)`;
}
