import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MpopError } from '../errors.js';

/** HostKey is an SSH host key as enroll judges it: its type and its OpenSSH-style SHA-256 fingerprint. */
export interface HostKey {
  type: string;
  /** `SHA256:` and the unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -lf` prints it */
  fingerprint: string;
}

/** HostKeyCheck is how a host's key compared with the known hosts: already known, or added now (accepted). */
export type HostKeyStatus = 'known' | 'added';

/** knownHostsPath is where mpop keeps the host keys it trusts: `$MESHPOP_HOME/mpop/known_hosts`. */
export function knownHostsPath(home: string): string {
  return join(home, 'mpop', 'known_hosts');
}

/** hostKeyOf reads an SSH host key blob (RFC 4253 string: type, then the key) into its type and fingerprint. */
export function hostKeyOf(blob: Buffer): HostKey {
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const raw = len > 0 && len < 64 && blob.length >= 4 + len ? blob.subarray(4, 4 + len).toString('latin1') : '';
  const type = /^[A-Za-z0-9@._-]+$/.test(raw) ? raw : 'unknown';
  return { type, fingerprint: fingerprintOf(blob) };
}

/** fingerprintOf is `SHA256:` and the unpadded base64 of the blob's SHA-256 (OpenSSH's form). */
export function fingerprintOf(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** hostSpec names a host as OpenSSH's known_hosts does: `host` on port 22, else `[host]:port`. */
export function hostSpec(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

interface Entry {
  spec: string;
  type: string;
  fingerprint: string;
  line: number;
}

/** readKnownHosts reads the file's entries (`SPEC TYPE SHA256:...` a line; `#` comments); absent is empty. */
function readKnownHosts(file: string): Entry[] {
  if (!existsSync(file)) return [];
  const out: Entry[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
    const text = raw.trim();
    if (!text || text.startsWith('#')) return;
    const [spec, type, fingerprint] = text.split(/\s+/);
    if (!spec || !type || !fingerprint?.startsWith('SHA256:')) {
      throw new MpopError('MPOP_HOST_KEY', `${file}:${i + 1}: not a known host line ("HOST TYPE SHA256:..."); fix or delete that line.`);
    }
    out.push({ spec, type, fingerprint, line: i + 1 });
  });
  return out;
}

/**
 * checkHostKey judges a host's key against the known hosts file. A known key matching is `known`. An unknown
 * host is refused (MPOP_HOST_KEY, its fingerprint shown) unless `accept` is that very fingerprint, when it is
 * added (`added`). A key that differs from the one on file is refused loudly, `accept` or not.
 */
export function checkHostKey(file: string, host: string, port: number, key: HostKey, accept?: string): HostKeyStatus {
  const spec = hostSpec(host, port);
  const mine = readKnownHosts(file).filter((e) => e.spec === spec);
  const same = mine.find((e) => e.fingerprint === key.fingerprint);
  if (same) return 'known';
  if (mine.length) {
    const old = mine[0]!;
    throw new MpopError(
      'MPOP_HOST_KEY',
      `THE HOST KEY OF ${spec} HAS CHANGED: it was ${old.type} ${old.fingerprint}, it is now ${key.type} ${key.fingerprint}. ` +
        `Someone may be intercepting the connection. Nothing was sent. If the host was reinstalled and you checked the new key ` +
        `on its console (ssh-keygen -lf /etc/ssh/ssh_host_${key.type.replace(/^ssh-/, '')}_key.pub), delete line ${old.line} of ${file} and enroll again.`,
    );
  }
  if (accept === undefined) {
    throw new MpopError(
      'MPOP_HOST_KEY',
      `the host key of ${spec} is not known: ${key.type} ${key.fingerprint}. Check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) ` +
        `and enroll again with --accept-host-key ${key.fingerprint}`,
    );
  }
  if (accept.trim() !== key.fingerprint) {
    throw new MpopError('MPOP_HOST_KEY', `the host key of ${spec} is ${key.type} ${key.fingerprint}, not the ${accept.trim().slice(0, 60)} you accepted: nothing was sent. Check the fingerprint on the host.`);
  }
  addKnownHost(file, spec, key);
  return 'added';
}

/** addKnownHost appends a host's key to the file (written whole to a temp file, then renamed). */
function addKnownHost(file: string, spec: string, key: HostKey): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '# mpop known hosts: HOST TYPE SHA256-FINGERPRINT (mpop enroll --accept-host-key adds a line)\n';
  const text = (before.endsWith('\n') || !before ? before : before + '\n') + `${spec} ${key.type} ${key.fingerprint}\n`;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}
