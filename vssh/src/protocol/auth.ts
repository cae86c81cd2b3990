import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { VsshError } from '../errors.js';

/**
 * Request and reply authentication (see PROTOCOL.md). Every request carries
 *
 *   { verb, args, ts, nonce, bodyHash, mac }   mac = HMAC-SHA256(node key, "vssh1 request" LF verb LF
 *                                               canonical(args) LF ts LF nonce LF bodyHash)
 *
 * and the daemon refuses it unless the timestamp is within MAX_SKEW_MS of its clock, the MAC matches
 * (constant-time), the body hashes to bodyHash, and the nonce has not been seen in the window. Replies
 * are signed over the request's nonce, so a client knows the answer comes from the node it asked.
 */

/** MAX_SKEW_MS is how far a request's timestamp may be from the daemon's clock. */
export const MAX_SKEW_MS = 60_000;

/** RequestAuth is the authenticated header of a request. */
export interface RequestAuth {
  verb: string;
  args: Record<string, unknown>;
  ts: number;
  nonce: string;
  bodyHash: string;
  mac: string;
}

/** canonicalJson renders a value as JSON with object keys sorted at every depth, so both ends MAC the same bytes. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const hmac = (key: Uint8Array, text: string): Buffer => createHmac('sha256', key).update(text).digest();

function requestText(a: Omit<RequestAuth, 'mac'>): string {
  return ['vssh1 request', a.verb, canonicalJson(a.args), String(a.ts), a.nonce, a.bodyHash].join('\n');
}

/** signRequest authenticates a request to a node with its key. */
export function signRequest(key: Uint8Array, verb: string, args: Record<string, unknown>, body: Uint8Array = new Uint8Array(0), now = Date.now()): RequestAuth {
  const a = { verb, args, ts: now, nonce: randomBytes(16).toString('hex'), bodyHash: sha256(body) };
  return { ...a, mac: hmac(key, requestText(a)).toString('hex') };
}

/**
 * NonceWindow remembers the nonces of accepted requests for twice the allowed skew: a request older
 * than that is refused by its timestamp, so nothing older needs remembering. It remembers nothing from
 * before it was made (`since`, a daemon's start): verifyRequest refuses requests signed earlier, which
 * an earlier process may have accepted, so a request captured before a restart cannot be replayed after it.
 */
export class NonceWindow {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 2 * MAX_SKEW_MS + 1,
    /** since is when the window started remembering (ms since the epoch) */
    readonly since = Date.now(),
  ) {}

  /** admit records `nonce`, or returns false when it was seen within the window. */
  admit(nonce: string, now: number): boolean {
    if (this.#seen.size > 0) {
      for (const [n, until] of this.#seen) {
        if (until >= now) break; // insertion order is time order: the rest are younger
        this.#seen.delete(n);
      }
    }
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, now + this.windowMs);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}

function malformed(why: string): VsshError {
  return new VsshError('VSSH_AUTH_MALFORMED', `the request's authentication header is malformed (${why})`);
}

/**
 * verifyRequest checks a request against the node's key and throws a VsshError saying which check
 * failed. The nonce is recorded only once the MAC holds, so forged requests cannot fill the window.
 */
export function verifyRequest(key: Uint8Array, auth: unknown, body: Uint8Array, window: NonceWindow, now = Date.now()): RequestAuth {
  if (typeof auth !== 'object' || auth === null) throw malformed('not an object');
  const a = auth as Partial<RequestAuth>;
  if (typeof a.verb !== 'string' || !/^[a-z][a-z0-9.-]{0,31}$/.test(a.verb)) throw malformed('verb');
  if (typeof a.args !== 'object' || a.args === null || Array.isArray(a.args)) throw malformed('args');
  if (typeof a.ts !== 'number' || !Number.isSafeInteger(a.ts)) throw malformed('ts');
  if (typeof a.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(a.nonce)) throw malformed('nonce');
  if (typeof a.bodyHash !== 'string' || !/^[0-9a-f]{64}$/.test(a.bodyHash)) throw malformed('bodyHash');
  if (typeof a.mac !== 'string' || !/^[0-9a-f]{64}$/.test(a.mac)) throw malformed('mac');
  const skew = a.ts - now;
  if (Math.abs(skew) > MAX_SKEW_MS) {
    throw new VsshError('VSSH_AUTH_STALE', `the request's timestamp is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'ahead of' : 'behind'} this node's clock (at most ${MAX_SKEW_MS / 1000} s allowed); check both clocks (NTP).`);
  }
  const expected = hmac(key, requestText(a as RequestAuth));
  if (!timingSafeEqual(expected, Buffer.from(a.mac, 'hex'))) {
    throw new VsshError('VSSH_AUTH_BAD_MAC', 'the request is not signed with this node\'s key (wrong key, or the request was altered).');
  }
  if (sha256(body) !== a.bodyHash) throw new VsshError('VSSH_AUTH_BAD_MAC', 'the request body does not match its signed hash (altered in transit).');
  if (a.ts < window.since) {
    // The window cannot know whether an earlier run of the daemon accepted this nonce: refuse it.
    throw new VsshError('VSSH_AUTH_STALE', `the request was signed ${((window.since - a.ts) / 1000).toFixed(1)} s before this daemon started, so it may be a replay; send it again (if this repeats, the client's clock is behind this node's: check NTP).`);
  }
  if (!window.admit(a.nonce, now)) throw new VsshError('VSSH_AUTH_REPLAY', 'this request was already received (a replay); each request is accepted once.');
  return a as RequestAuth;
}

function replyText(requestNonce: string, reply: unknown): string {
  return ['vssh1 reply', requestNonce, canonicalJson(reply)].join('\n');
}

/** signReply authenticates a reply to the request with `requestNonce`. */
export function signReply(key: Uint8Array, requestNonce: string, reply: unknown): string {
  return hmac(key, replyText(requestNonce, reply)).toString('hex');
}

/** verifyReply throws VSSH_AUTH_BAD_MAC unless the reply was signed by the node for this request. */
export function verifyReply(key: Uint8Array, requestNonce: string, reply: unknown, mac: string): void {
  const ok = /^[0-9a-f]{64}$/.test(mac) && timingSafeEqual(hmac(key, replyText(requestNonce, reply)), Buffer.from(mac, 'hex'));
  if (!ok) throw new VsshError('VSSH_AUTH_BAD_MAC', 'the reply is not signed with the node\'s key for this request: not the node you asked, or altered.');
}
