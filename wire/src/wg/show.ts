import { WireError } from '../errors.js';
import { run } from './run.js';

/** LivePeer is one peer as `wg show IFACE dump` reports it. */
export interface LivePeer {
  publicKey: string;
  endpoint: string | null;
  allowedIps: string[];
  /** seconds since the epoch of the last handshake; 0 when there was none */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  keepalive: number | null;
}

/** LiveInterface is an interface as `wg show IFACE dump` reports it (never its private key). */
export interface LiveInterface {
  publicKey: string;
  listenPort: number;
  peers: LivePeer[];
}

/** parseDump parses the output of `wg show IFACE dump`; the private key in its first line is dropped. */
export function parseDump(text: string): LiveInterface {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const head = lines[0]?.split('\t');
  if (!head || head.length < 4) throw new WireError('WIRE_PROTOCOL', 'wg show dump: no interface line');
  const peers = lines.slice(1).map((line, i) => {
    const f = line.split('\t');
    if (f.length < 8) throw new WireError('WIRE_PROTOCOL', `wg show dump: peer line ${i + 1} has ${f.length} fields, expected 8`);
    const num = (s: string): number => {
      const n = Number(s);
      if (!Number.isFinite(n)) throw new WireError('WIRE_PROTOCOL', `wg show dump: "${s}" is not a number`);
      return n;
    };
    return {
      publicKey: f[0]!,
      endpoint: f[2] === '(none)' ? null : f[2]!,
      allowedIps: f[3] === '(none)' ? [] : f[3]!.split(','),
      latestHandshake: num(f[4]!),
      rxBytes: num(f[5]!),
      txBytes: num(f[6]!),
      keepalive: f[7] === 'off' ? null : num(f[7]!),
    };
  });
  return { publicKey: head[1]!, listenPort: Number(head[2]), peers };
}

/** showInterface returns the live state of a WireGuard interface. */
export async function showInterface(name: string): Promise<LiveInterface> {
  return parseDump(await run('wg', ['show', name, 'dump']));
}
