import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import { VaultError } from '../errors.js';

/**
 * Node has no SO_PEERCRED, so the agent asks the kernel who is at the other end of a connection the way
 * `ss -xp` does: sock_diag (through iproute2's `ss`) gives the inode of the peer's end of the socket,
 * and /proc says which process holds that inode and as which user it runs. Nothing in a request can
 * change the answer.
 */

/** Peer is the process at the other end of an accepted Unix socket, as the kernel reports it. */
export interface Peer {
  pid: number;
  /** the effective uid the process runs as */
  uid: number;
}

function inodeOf(link: string): string | undefined {
  return /^socket:\[(\d+)\]$/.exec(link)?.[1];
}

function ssUnix(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-xnH'], { timeout: 5_000, maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

/**
 * peerInode returns the inode of the other end of our socket `local` (bound to `path`) from `ss -xnH`
 * output. Exactly one line must say so; a socket name crafted to look like a second line makes it fail
 * rather than guess.
 */
export function peerInode(ssOutput: string, path: string, local: string): string | undefined {
  const found: string[] = [];
  for (const line of ssOutput.split('\n')) {
    const m = /^u_str\s+\S+\s+\d+\s+\d+\s+(.+)\s+(\d+)\s+\*\s+(\d+)$/.exec(line.trim());
    if (m && m[2] === local && m[1] === path) found.push(m[3]!);
  }
  return found.length === 1 ? found[0] : undefined;
}

/** holds returns `pid` as a Peer when that process has an open descriptor on the socket `want` ("socket:[INODE]"). */
function holds(pid: string, want: string): Peer | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined; // gone, or not ours to look at
  }
  for (const fd of fds) {
    let link: string;
    try { link = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    if (link !== want) continue;
    try {
      const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (uid !== undefined) return { pid: Number(pid), uid: Number(uid) };
    } catch { /* it just ended */ }
  }
  return undefined;
}

/**
 * holderOf returns a process (other than this one) with an open descriptor on socket `inode`. The pid a
 * caller names (`hint`) is looked at first: it is believed only when /proc shows that process holding the
 * socket, so a false one costs a scan and changes nothing. Otherwise every pid is looked at, newest first
 * (a caller is most often a process that just started, so the scan usually ends early).
 */
function holderOf(inode: string, hint?: number): Peer | undefined {
  const want = `socket:[${inode}]`;
  if (hint !== undefined && Number.isSafeInteger(hint) && hint > 0 && hint !== process.pid) {
    const found = holds(String(hint), want);
    if (found) return found;
  }
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).sort((a, b) => Number(b) - Number(a));
  for (const pid of pids) {
    const found = holds(pid, want);
    if (found) return found;
  }
  return undefined;
}

/**
 * socketPeer returns the pid and uid of the process that connected `sock` to the agent listening on
 * `path`; `hint` is the pid the caller says it has, checked against /proc before it is used. It throws VAULT_AGENT when the kernel cannot say (the caller already left, it is in another
 * pid namespace, or iproute2's `ss` is missing); the agent then refuses the request.
 */
export async function socketPeer(sock: Socket, path: string, hint?: number): Promise<Peer> {
  const unknown = (why: string, cause?: unknown): VaultError =>
    new VaultError('VAULT_AGENT', `the vault agent cannot tell which process is asking (${why}), so it refuses; the caller's pid and uid go into the audit log.`, { cause });
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw unknown('no descriptor');
  let local: string | undefined;
  try { local = inodeOf(readlinkSync(`/proc/self/fd/${fd}`)); } catch (err) { throw unknown('no /proc', err); }
  if (!local) throw unknown('not a socket');
  let out: string;
  try {
    out = await ssUnix();
  } catch (err) {
    throw unknown((err as NodeJS.ErrnoException).code === 'ENOENT' ? '`ss` from iproute2 is not installed' : '`ss` failed', err);
  }
  const remote = peerInode(out, path, local);
  if (!remote) throw unknown('the kernel lists no single peer');
  const peer = holderOf(remote, hint);
  if (!peer) throw unknown('the caller is gone or not visible here');
  return peer;
}
