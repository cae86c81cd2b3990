import { createHash } from 'node:crypto';
import type { VsshClient } from '@meshpop/vssh';
import { MpopError } from '../errors.js';

/**
 * A node keeps its share as `$MESHPOP_HOME/vault/shares/<file>` (its daemon's MESHPOP_HOME, default
 * ~/.meshpop): a 0600 file in a 0700 folder beside the node's own vault, written whole (temp file, rename).
 * The node's vault itself is not touched: it may be locked, and opening it would need its password here.
 */

/** shareFileName is the name of a node's share file for a vault: mpop-<vault id, 16>-<node>.share (unsafe characters as _). */
export function shareFileName(vault: string, node: string): string {
  return `mpop-${vault.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}-${node.replace(/[^A-Za-z0-9._-]/g, '_')}.share`;
}

const STORE = [
  'set -eu',
  'umask 077',
  'd="${MESHPOP_HOME:-$HOME/.meshpop}/vault/shares"',
  'mkdir -p "$d"',
  'chmod 700 "$d"',
  'f="$d/$1"',
  't="$f.tmp.$$"',
  'printf "%s\\n" "$MPOP_SHARE" > "$t"',
  'mv -f "$t" "$f"',
  'printf "%s\\n" "$f"',
  'sha256sum < "$f" | cut -d" " -f1',
].join('\n');

const READ = [
  'f="${MESHPOP_HOME:-$HOME/.meshpop}/vault/shares/$1"',
  'if [ ! -f "$f" ]; then echo "no share file $f" >&2; exit 4; fi',
  'printf "mode %s %s\\n" "$(stat -c %a "$f" 2>/dev/null || echo ?)" "$f"',
  'exec cat -- "$f"',
].join('\n');

/** storeShare writes `text` (an envelope, one line) to the node's share file and checks what landed; it returns the path. */
export async function storeShare(client: VsshClient, file: string, text: string, signal?: AbortSignal): Promise<string> {
  // The envelope travels in the signed request (env), never on a command line another user could read.
  const r = await client.exec({ argv: ['sh', '-c', STORE, 'mpop-share', file] }, { env: { MPOP_SHARE: text }, timeoutMs: 30_000, ...(signal ? { signal } : {}) });
  const out = r.stdout.toString('utf8').trim().split('\n');
  if (r.exitCode !== 0) throw new MpopError('MPOP_REMOTE', `storing the share on ${client.target.name} failed (exit ${r.exitCode}): ${r.stderr.toString('utf8').trim().slice(0, 300)}`);
  const want = createHash('sha256').update(text + '\n').digest('hex');
  if (out[1] !== want) throw new MpopError('MPOP_REMOTE', `the share stored on ${client.target.name} does not read back as sent`);
  return out[0]!;
}

/** readShare fetches the node's share file: its text, path and mode; MPOP_SHARES when the node has none. */
export async function readShare(client: VsshClient, file: string, signal?: AbortSignal): Promise<{ text: string; path: string; mode: string }> {
  const r = await client.exec({ argv: ['sh', '-c', READ, 'mpop-share', file] }, { timeoutMs: 30_000, maxOutputBytes: 64 * 1024, ...(signal ? { signal } : {}) });
  const err = r.stderr.toString('utf8').trim();
  if (r.exitCode === 4) throw new MpopError('MPOP_SHARES', `${client.target.name} holds no share of this vault (${err.replace(/^no share file /, 'no ')})`);
  if (r.exitCode !== 0) throw new MpopError('MPOP_REMOTE', `reading the share on ${client.target.name} failed (exit ${r.exitCode}): ${err.slice(0, 300)}`);
  const text = r.stdout.toString('utf8');
  const nl = text.indexOf('\n');
  const m = /^mode (\S+) (.*)$/.exec(text.slice(0, nl));
  return { text: text.slice(nl + 1).trim(), path: m?.[2] ?? '?', mode: m?.[1] ?? '?' };
}
