import { connect } from 'node:net';
import { VsshError } from '../errors.js';
import { Channel } from '../protocol/conn.js';
import { bool, optInt, str } from '../protocol/args.js';
import type { RequestContext } from './daemon.js';
import { drainOrClose } from './exec.js';

/**
 * tunnelHandler connects to host:port as seen from the node and carries bytes both ways on the stream
 * (flow-controlled in both directions) until both sides have ended. The reply counts the bytes. With
 * `check`, it only says whether the policy allows the tunnel (refusing as it would), connecting nowhere.
 */
export async function tunnelHandler(ctx: RequestContext): Promise<Record<string, unknown>> {
  const host = str(ctx.args, 'host');
  const port = optInt(ctx.args, 'port', 65535);
  if (!port) throw new VsshError('VSSH_BAD_INPUT', 'tunnel needs a port from 1 to 65535');
  ctx.policy.checkTunnel(host, port);
  if (bool(ctx.args, 'check')) return { allowed: true }; // asked only whether the policy allows it
  const sock = connect({ host, port, allowHalfOpen: true }); // each direction ends on its own (a target may half-close first)
  sock.setNoDelay(true);
  const abort = (): void => void sock.destroy();
  ctx.signal.addEventListener('abort', abort, { once: true }); // also while connecting
  await new Promise<void>((resolve, reject) => {
    sock.once('close', () => reject(new VsshError('VSSH_CANCELLED', 'the tunnel was cancelled while connecting')));
    sock.once('connect', resolve);
    sock.once('error', (err: NodeJS.ErrnoException) =>
      reject(new VsshError('VSSH_UNREACHABLE', `the node could not connect to ${host}:${port} (${err.code === 'ECONNREFUSED' ? 'nothing listens there' : err.code ?? err.message})`)),
    );
  });
  ctx.stream.msg({ connected: true });
  let bytesIn = 0;
  let bytesOut = 0;
  const toClient = (async () => {
    try {
      for await (const chunk of sock.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        bytesOut += chunk.length;
        await ctx.stream.write(Channel.OUT, chunk);
      }
      ctx.stream.end();
    } catch {
      sock.destroy();
    }
  })();
  const toTarget = (async () => {
    try {
      for (;;) {
        const item = await ctx.stream.read();
        if (!item || item.kind === 'end') break;
        if (item.kind !== 'data') continue;
        bytesIn += item.bytes.length;
        if (!sock.write(item.bytes)) await drainOrClose(sock);
      }
      sock.end();
    } catch {
      sock.destroy();
    }
  })();
  await Promise.all([toClient, toTarget]);
  ctx.signal.removeEventListener('abort', abort);
  if (ctx.signal.aborted) throw new VsshError('VSSH_CANCELLED', 'the tunnel was closed');
  return { bytesIn, bytesOut };
}
