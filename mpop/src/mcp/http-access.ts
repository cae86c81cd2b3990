import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** TOKEN_SECRET is the vault name of the bearer token the HTTP transport requires. */
export const TOKEN_SECRET = 'mpop/mcp-token';

/** newToken makes a bearer token: 32 random bytes, base64url, prefixed so it is recognisable (and redacted) as one. */
export const newToken = (): string => `mcp_${randomBytes(32).toString('base64url')}`;

/** AccessPolicy is who may talk to the HTTP transport: the token, and the Host and Origin values accepted. */
export interface AccessPolicy {
  token: string;
  hosts: Set<string>;
  origins: Set<string>;
}

/** accessPolicy builds the accepted Host and Origin values for a bound address and port (plus extra origins). */
export function accessPolicy(token: string, bind: string, port: number, extraOrigins: string[] = []): AccessPolicy {
  const names = new Set([bind, bind.includes(':') ? `[${bind}]` : bind]);
  if (bind === '127.0.0.1' || bind === '::1' || bind === 'localhost') for (const n of ['127.0.0.1', 'localhost', '[::1]']) names.add(n);
  const hosts = new Set([...names].map((n) => `${n}:${port}`));
  const origins = new Set([...[...names].flatMap((n) => [`http://${n}:${port}`, `https://${n}:${port}`]), ...extraOrigins]);
  return { token, hosts, origins };
}

/** Refusal is why a request is turned away, with its HTTP status. */
export interface Refusal {
  status: number;
  message: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * checkAccess decides on one request before the MCP transport sees it: a Host header that is not this server's
 * (DNS rebinding) is 421, a foreign Origin 403, a missing or wrong bearer token 401 (compared in constant time).
 */
export function checkAccess(req: IncomingMessage, policy: AccessPolicy): Refusal | null {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!policy.hosts.has(host)) return { status: 421, message: `Host "${host.slice(0, 100)}" is not this server (allowed: ${[...policy.hosts].join(', ')})` };
  const origin = req.headers.origin;
  if (origin !== undefined && !policy.origins.has(origin.toLowerCase())) return { status: 403, message: `Origin "${origin.slice(0, 100)}" is not allowed` };
  const auth = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!m) return { status: 401, message: 'a bearer token is required (Authorization: Bearer <token>; mpop-mcp token create makes one)' };
  if (!timingSafeEqual(digest(m[1]!), digest(policy.token))) return { status: 401, message: 'the bearer token is wrong' };
  return null;
}
