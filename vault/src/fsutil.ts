import { Stats, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
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

/** ensureDir creates `dir` (and its parents) with mode 0700 when it is missing, then insists it is private (assertPrivateDir). */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw ioError(err, 'creating', dir);
  }
  assertPrivateDir(dir);
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * assertPrivateDir throws VAULT_INSECURE unless no other user can change what is in `dir`, as
 * OpenSSH's StrictModes asks of ~/.ssh: `dir` must be this user's and writable by no one else, and each
 * folder above it must be this user's or root's and writable by no one else unless it is sticky (/tmp),
 * where others cannot rename or remove what is ours. A `dir` that does not exist yet is judged by the
 * folders above it. The message says which folder is wrong and the command that fixes it.
 */
export function assertPrivateDir(dir: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return; // not POSIX: no owners or modes to check
  // The nearest folder that exists: `dir` itself, or where it will be made.
  let path = resolve(dir);
  let own = true;
  while (!exists(path)) {
    if (dirname(path) === path) return;
    path = dirname(path);
    own = false;
  }
  // Both the folders the name is looked up through and, past any symlink, the real ones.
  const above = new Set([...ancestors(path), ...ancestors(realpathSync(path))]);
  check(realpathSync(path), own, uid);
  for (const p of above) check(p, false, uid);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError(err, 'checking', path);
  }
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let p = dirname(path); ; p = dirname(p)) {
    out.push(p);
    if (dirname(p) === p) return out;
  }
}

/** check refuses `path` when another user owns it (root may own a folder above the vault) or can write it (unless sticky, above the vault). */
function check(path: string, mustOwn: boolean, uid: number): void {
  const st = statSync(path);
  if (mustOwn && !st.isDirectory()) throw new VaultError('VAULT_INSECURE', `${path} should be the vault's folder but is not a folder; move it away.`);
  if (st.uid !== uid && (mustOwn || st.uid !== 0)) {
    throw new VaultError(
      'VAULT_INSECURE',
      `${path} belongs to uid ${st.uid}, not to you (uid ${uid}): that user could plant an agent socket or a store there, so the vault refuses it. ` +
        (mustOwn ? `Remove it or \`chown ${uid} ${path}\` as root.` : `Set MESHPOP_HOME to a folder of your own, or \`chown ${uid} ${path}\` as root.`),
    );
  }
  if ((st.mode & 0o022) !== 0 && (mustOwn || (st.mode & 0o1000) === 0)) {
    throw new VaultError(
      'VAULT_INSECURE',
      `${path} can be written by other users (mode ${octal(st.mode)}): they could plant an agent socket or a store there, so the vault refuses it. ` +
        `Fix it with \`chmod ${mustOwn ? '700' : 'go-w'} ${path}\`.`,
    );
  }
}

/**
 * assertOwnSocket throws VAULT_INSECURE when something at `socket` is not a socket of this user's, so a
 * client never sends a value to a listener another user planted. A missing socket passes (nothing to talk to).
 */
export function assertOwnSocket(socket: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  let st: Stats;
  try {
    st = lstatSync(socket);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError(err, 'checking', socket);
  }
  if (!st.isSocket() || st.uid !== uid) {
    throw new VaultError(
      'VAULT_INSECURE',
      `${socket} is ${st.isSocket() ? `a socket of uid ${st.uid}` : 'not a socket'}, not your vault agent's: nothing was sent to it. ` +
        `Remove it (\`rm ${socket}\`) and check who else can write to ${dirname(socket)}.`,
    );
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
