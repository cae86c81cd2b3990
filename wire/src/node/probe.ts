import { createSocket } from 'node:dgram';

/** ProbeResult is the address and port the coordinator saw a UDP packet come from. */
export interface ProbeResult {
  address: string;
  port: number;
}

/** probePublicAddress asks the coordinator's UDP probe where we appear to come from; undefined on timeout. */
export function probePublicAddress(host: string, port: number, timeoutMs = 2000): Promise<ProbeResult | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const done = (r: ProbeResult | undefined): void => {
      clearTimeout(timer);
      try { sock.close(); } catch { /* closed */ }
      resolve(r);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('message', (msg) => {
      try {
        const r = JSON.parse(msg.toString('utf8')) as ProbeResult;
        done(typeof r.address === 'string' && Number.isInteger(r.port) ? r : undefined);
      } catch {
        done(undefined);
      }
    });
    sock.send('wire-probe', port, host);
  });
}
