import { MpopError } from '../errors.js';

/** parseTarget reads `user@host` (or `host`, as root) into its parts; a host is a name, an IPv4, or a bracketed IPv6. */
export function parseTarget(text: string): { user: string; host: string } {
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : 'root';
  let host = at >= 0 ? text.slice(at + 1) : text;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/i.test(user)) throw new MpopError('MPOP_USAGE', `"${user.slice(0, 40)}" is not a user name: write user@host.`);
  const ok = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host) || /^[0-9a-fA-F:]+(%[A-Za-z0-9]+)?$/.test(host) && host.includes(':');
  if (!ok) throw new MpopError('MPOP_USAGE', `"${host.slice(0, 60)}" is not a host name or address: write user@host (e.g. root@203.0.113.7).`);
  return { user, host };
}
