import { WireError } from './errors.js';

/**
 * A join token is one string a person pastes: `wire1_` and base64url of a small JSON document with the
 * coordinator's URL, the SHA-256 fingerprint of its certificate (so the node trusts it on first
 * contact), the node name it is for, and the token's id and secret. The coordinator keeps only a hash
 * of the secret; a token works once, before its expiry, for the name it carries.
 */
export interface JoinToken {
  url: string;
  fingerprint: string;
  name: string;
  id: string;
  secret: string;
  probePort: number;
}

const PREFIX = 'wire1_';

/** encodeToken renders a token. */
export function encodeToken(t: JoinToken): string {
  const doc = { u: t.url, f: t.fingerprint, n: t.name, i: t.id, s: t.secret, p: t.probePort };
  return PREFIX + Buffer.from(JSON.stringify(doc), 'utf8').toString('base64url');
}

/** decodeToken parses a token, or throws WIRE_BAD_TOKEN saying what is wrong with it. */
export function decodeToken(text: string): JoinToken {
  const s = text.trim();
  const bad = (why: string): WireError => new WireError('WIRE_BAD_TOKEN', `not a wire join token (${why}); copy the whole token that \`wire token create\` printed.`);
  if (!s.startsWith(PREFIX)) throw bad(`it does not start with ${PREFIX}`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(s.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw bad('it does not decode');
  }
  const str = (k: string): string => {
    if (typeof doc[k] !== 'string' || !(doc[k] as string)) throw bad(`field ${k} is missing`);
    return doc[k] as string;
  };
  const url = str('u');
  if (!/^https:\/\/[^/]+$/.test(url)) throw bad('its coordinator URL is not https://host:port');
  const fingerprint = str('f');
  if (!/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/.test(fingerprint)) throw bad('its certificate fingerprint is malformed');
  const probePort = Number(doc.p);
  if (!Number.isInteger(probePort) || probePort < 1 || probePort > 65535) throw bad('its probe port is malformed');
  return { url, fingerprint, name: str('n'), id: str('i'), secret: str('s'), probePort };
}

/** MAX_TOKEN_TTL_MS: the longest a join token may live (90 days); a join token is meant to be used soon. */
export const MAX_TOKEN_TTL_MS = 90 * 86_400_000;

/** parseTtl reads a TTL (90s, 15m, 1h, 7d) as milliseconds, or throws WIRE_BAD_INPUT; at most 90 days. */
export function parseTtl(text: string): number {
  const m = /^(\d{1,9})(s|m|h|d)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(ms > 0)) throw new WireError('WIRE_BAD_INPUT', `"${text.slice(0, 40)}" is not a TTL; write a number and a unit, e.g. 15m, 1h or 7d.`);
  if (ms > MAX_TOKEN_TTL_MS) throw new WireError('WIRE_BAD_INPUT', `a join token lives at most 90 days (90d); "${text.slice(0, 40)}" is longer.`);
  return ms;
}
