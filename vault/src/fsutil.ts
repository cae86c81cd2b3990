import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { VaultError } from './errors.js';

/** ioError turns a Node fs error into a VaultError that says what to do. */
export function ioError(err: unknown, action: string, file: string): VaultError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new VaultError('VAULT_DISK_FULL', `no space left on the disk while ${action} ${file}; free some space and retry. Nothing was changed.`, { cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new VaultError('VAULT_IO', `permission denied while ${action} ${file}; check the owner and mode of ${dirname(file)}.`, { cause: err });
  }
  return new VaultError('VAULT_IO', `could not finish ${action} ${file} (${code ?? String(err)}); nothing was changed.`, { cause: err });
}

/** ensureDir creates `dir` (and its parents) with mode 0700 when it is missing. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw ioError(err, 'creating', dir);
  }
}

/**
 * writeFileAtomic replaces `file` with `data` so that a crash, a full disk or a kill at any moment
 * leaves either the old file or the new one, never a mix: temp file, fsync, rename, fsync of the folder.
 */
export function writeFileAtomic(file: string, data: Uint8Array, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try { closeSync(fd); } catch { /* already failing */ }
    }
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw ioError(err, 'writing', file);
  }
  syncDir(dirname(file));
}

/** syncDir fsyncs a folder so a rename in it survives a crash (best effort where unsupported). */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch {
    /* some filesystems refuse fsync on folders; the rename is still atomic */
  }
}
