import { MpopError } from '../errors.js';

/** LogSourceKind is what a user asks logs of. */
export type LogSourceKind = 'system' | 'auth' | 'kernel' | 'nginx' | 'unit' | 'file' | 'container';

/** LogSource is a parsed SOURCE argument of `mpop logs`. */
export interface LogSource {
  kind: LogSourceKind;
  /** the unit, the file path or the container name (kinds unit, file, container) */
  name?: string;
  /** a container runtime the user named (docker:NAME, podman:NAME) */
  runtime?: 'docker' | 'podman';
  /** the argument as given */
  spec: string;
}

const UNIT_SUFFIX = /\.(service|socket|timer|mount|automount|target|scope|slice|path|swap|device)$/;
const UNIT_NAME = /^[A-Za-z0-9:_.@\\-]{1,255}$/;
const CONTAINER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

/** FILE_CANDIDATES are the classic files each named source falls back to where there is no journal, in order of preference. */
export const FILE_CANDIDATES: Record<'system' | 'auth' | 'nginx', string[]> = {
  system: ['/var/log/syslog', '/var/log/messages'],
  auth: ['/var/log/auth.log', '/var/log/secure'],
  nginx: ['/var/log/nginx/access.log', '/var/log/nginx/error.log'],
};

/**
 * parseLogSource reads SOURCE: `system`, `auth`, `kernel`, `nginx`, an absolute file path, `container:NAME`
 * (or `docker:NAME`, `podman:NAME`), `unit:NAME`, a name with a unit suffix (`ssh.service`), or any other
 * bare name, which is read as a systemd unit (journalctl -u takes `ssh` for `ssh.service`).
 */
export function parseLogSource(spec: string): LogSource {
  const s = spec.trim();
  if (!s) throw new MpopError('MPOP_USAGE', 'no log source: give system, auth, kernel, nginx, a unit, a file path or container:NAME');
  if (s === 'system' || s === 'auth' || s === 'kernel' || s === 'nginx') return { kind: s, spec: s };
  if (s.startsWith('/')) {
    if (/[\x00-\x1f\x7f]/.test(s) || s.split('/').includes('..')) throw new MpopError('MPOP_USAGE', `the log file path "${s}" must be absolute, without ".." segments or control characters`);
    return { kind: 'file', name: s, spec: s };
  }
  const m = /^(container|docker|podman|unit):(.*)$/.exec(s);
  if (m) {
    const name = m[2]!;
    if (m[1] === 'unit') {
      if (!UNIT_NAME.test(name)) throw new MpopError('MPOP_USAGE', `"${name}" is not a systemd unit name`);
      return { kind: 'unit', name, spec: s };
    }
    if (!CONTAINER_NAME.test(name)) throw new MpopError('MPOP_USAGE', `"${name}" is not a container name or id (letters, digits, _ . -)`);
    return { kind: 'container', name, spec: s, ...(m[1] === 'docker' || m[1] === 'podman' ? { runtime: m[1] } : {}) };
  }
  if (s.includes('/')) throw new MpopError('MPOP_USAGE', `"${s}" is not a log source: a file path must be absolute (/var/log/app.log)`);
  if (UNIT_SUFFIX.test(s) || UNIT_NAME.test(s)) {
    if (!UNIT_NAME.test(s)) throw new MpopError('MPOP_USAGE', `"${s}" is not a systemd unit name`);
    return { kind: 'unit', name: s, spec: s };
  }
  throw new MpopError('MPOP_USAGE', `"${s}" is not a log source: give system, auth, kernel, nginx, a unit (ssh.service), a file path (/var/log/app.log) or container:NAME`);
}
