import { VSSH_ERROR_CODES, VsshError, VsshErrorCode } from '../errors.js';
import { Incoming, Mux, Stream } from '../protocol/conn.js';
import { signRequest, verifyReply } from '../protocol/auth.js';

const CODES = new Set<string>(VSSH_ERROR_CODES);

/**
 * Call is one signed request on a connection. Read what the node streams with `next()`; it returns
 * null once the node's reply has arrived and been verified (then `result` holds it). An error reply
 * is thrown as the VsshError it carries.
 */
export class Call {
  readonly stream: Stream;
  readonly nonce: string;
  #result: Record<string, unknown> | undefined;

  constructor(mux: Mux, private readonly key: Uint8Array, readonly node: string, verb: string, args: Record<string, unknown>) {
    this.stream = mux.open();
    const auth = signRequest(key, verb, args);
    this.nonce = auth.nonce;
    this.stream.request(auth);
  }

  /** next returns the next item the node sent before its reply, or null after the reply. */
  async next(): Promise<Exclude<Incoming, { kind: 'reply' }> | null> {
    if (this.#result) return null;
    const item = await this.stream.read();
    if (!item) throw new VsshError('VSSH_CONNECTION_LOST', `${this.node} closed the request without answering`);
    if (item.kind !== 'reply') return item;
    this.#result = this.verify(item.body);
    return null;
  }

  /** result waits for the reply, dropping anything streamed before it, and returns it. */
  async result(): Promise<Record<string, unknown>> {
    while ((await this.next()) !== null) {
      /* skip */
    }
    return this.#result!;
  }

  /** cancel asks the node to stop (it kills a running command's process group). */
  cancel(): void {
    this.stream.reset('VSSH_CANCELLED', 'cancelled by the client');
  }

  /** verify checks a reply's MAC and turns an error reply into its VsshError. */
  verify(body: Record<string, unknown>): Record<string, unknown> {
    const mac = typeof body.mac === 'string' ? body.mac : '';
    if (body.error && typeof body.error === 'object') {
      const e = body.error as { code?: unknown; message?: unknown };
      const code = (typeof e.code === 'string' && CODES.has(e.code) ? e.code : 'VSSH_INTERNAL') as VsshErrorCode;
      const message = typeof e.message === 'string' ? e.message.slice(0, 2000) : 'the node refused the request';
      try {
        verifyReply(this.key, this.nonce, { error: body.error }, mac);
      } catch {
        // A refusal the node could not sign for our key: show it, marked as unverified.
        if (code.startsWith('VSSH_AUTH')) throw new VsshError(code, `${this.node}: ${message} (the node's answer could not be verified either: the key used for ${this.node} is not the node's)`);
        throw new VsshError('VSSH_AUTH_BAD_MAC', `${this.node} answered with an error that is not signed with its key: not the node you asked, or altered.`);
      }
      throw new VsshError(code, `${this.node}: ${message}`);
    }
    const result = body.result;
    if (typeof result !== 'object' || result === null) throw new VsshError('VSSH_FRAME_MALFORMED', `${this.node} sent a reply without a result`);
    verifyReply(this.key, this.nonce, { result }, mac);
    return result as Record<string, unknown>;
  }
}
