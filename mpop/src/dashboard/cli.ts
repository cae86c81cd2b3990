import { isIP } from 'node:net';
import { MpopError } from '../errors.js';

/** isLoopback tells whether a bind address is reachable from this machine only. */
export const isLoopback = (bind: string): boolean => bind === 'localhost' || bind === '::1' || /^127\./.test(bind);

/** checkBind refuses a --bind that is not an IP address (or localhost) and a --port outside 0..65535. */
export function checkBind(bind: string, port: number): void {
  if (bind !== 'localhost' && !isIP(bind)) throw new MpopError('MPOP_USAGE', `--bind "${bind.slice(0, 100)}" is not an IP address: give 127.0.0.1 (the default), this node's mesh address (10.99.x.y), or another address of this machine`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MpopError('MPOP_USAGE', `--port ${port} is not a TCP port (0..65535)`);
}

/** waitForSignal resolves on SIGINT or SIGTERM. */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (s: string) => () => resolve(s);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}
