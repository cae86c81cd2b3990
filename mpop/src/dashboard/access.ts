import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** KEY_SECRET is the vault name of the dashboard's key, which signs its session cookies. */
export const KEY_SECRET = 'mpop/dashboard-key';
/** METRICS_TOKEN_SECRET is the vault name of the bearer token a Prometheus server sends to a /metrics that is not on loopback. */
export const METRICS_TOKEN_SECRET = 'mpop/metrics-token';
/** COOKIE is the session cookie's name. */
export const COOKIE = 'mpop_session';
/** SESSION_MS is how long a session lasts. */
export const SESSION_MS = 12 * 3_600_000;
/** LOGIN_TTL_MS is how long a printed login link works (once). */
export const LOGIN_TTL_MS = 15 * 60_000;

const b64 = (b: Buffer): string => b.toString('base64url');
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
/** same compares two strings in constant time (through their digests, so lengths do not leak). */
export const same = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** newSecret makes a random 32-byte secret, base64url, with a recognisable prefix. */
export const newSecret = (prefix: string): string => `${prefix}_${b64(randomBytes(32))}`;

/**
 * Access holds the dashboard's login rules: one-time login tokens (kept as digests, each good once within
 * LOGIN_TTL_MS), session cookies signed with the key from the vault (so a restart keeps them), a CSRF token
 * per session, and the Host and Origin values this server answers to.
 */
export class Access {
  readonly #key: Buffer;
  readonly #logins = new Map<string, number>();
  readonly hosts: Set<string>;
  readonly origins: Set<string>;

  constructor(key: string, bind: string, port: number) {
    this.#key = Buffer.from(key, 'utf8');
    const names = new Set([bind, bind.includes(':') ? `[${bind}]` : bind]);
    if (['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::'].includes(bind)) for (const n of ['127.0.0.1', 'localhost', '[::1]']) names.add(n);
    this.hosts = new Set([...names].map((n) => `${n}:${port}`));
    this.origins = new Set([...names].map((n) => `http://${n}:${port}`));
  }

  /** loginToken makes a new one-time login token. */
  loginToken(now = Date.now()): string {
    const t = newSecret('login');
    this.#logins.set(b64(digest(t)), now + LOGIN_TTL_MS);
    return t;
  }

  /** redeem spends a login token: true once, within its time; false for anything else. */
  redeem(token: string, now = Date.now()): boolean {
    for (const [k, exp] of this.#logins) if (exp < now) this.#logins.delete(k);
    const k = b64(digest(token));
    if (!this.#logins.has(k)) return false;
    this.#logins.delete(k);
    return true;
  }

  #mac(s: string): string {
    return b64(createHmac('sha256', this.#key).update(s).digest());
  }

  /** session makes a signed session cookie value. */
  session(now = Date.now()): string {
    const body = `${b64(randomBytes(18))}.${now + SESSION_MS}`;
    return `${body}.${this.#mac(body)}`;
  }

  /** check returns the session id of a valid, unexpired cookie value, else null. */
  check(cookie: string | undefined, now = Date.now()): string | null {
    if (!cookie) return null;
    const m = /^([A-Za-z0-9_-]{24})\.(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (!m) return null;
    if (!same(m[3]!, this.#mac(`${m[1]}.${m[2]}`))) return null;
    return Number(m[2]) > now ? m[1]! : null;
  }

  /** csrf is the CSRF token of a session (sent back in X-Mpop-Csrf on every POST that changes something). */
  csrf(sid: string): string {
    return this.#mac(`csrf.${sid}`);
  }
}
