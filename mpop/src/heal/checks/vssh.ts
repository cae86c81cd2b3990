import { connect } from 'node:net';
import type { VsshClient } from '@meshpop/vssh';
import { errorInfo } from '../../errors.js';
import type { CheckResult, HealCheck } from '../check.js';

/** PortProbe is what a plain TCP connect to one of the node's addresses found. */
export interface PortProbe {
  address: string;
  result: 'open' | 'refused' | 'timed out' | 'unreachable';
  detail?: string;
}

/** probePort tries a TCP connection (no vssh): open, refused (nothing listens), timed out (filtered or host down), or unreachable (no route, no name). */
export function probePort(host: string, port: number, timeoutMs = 3000): Promise<PortProbe> {
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (p: PortProbe): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => done({ address, result: 'timed out' }), timeoutMs);
    sock.once('connect', () => done({ address, result: 'open' }));
    sock.once('error', (e: NodeJS.ErrnoException) => done({ address, result: e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ETIMEDOUT' ? 'timed out' : 'unreachable', detail: e.code ?? e.message }));
  });
}

/** diagnoseDaemon says, from the controller only, why a node's vssh daemon did not answer: nothing listens, the port is filtered, or it listens and says nothing. */
export async function diagnoseDaemon(client: VsshClient, err: unknown): Promise<CheckResult> {
  const e = errorInfo(err);
  const probes = await Promise.all(client.target.addresses.map((a) => probePort(a.host, a.port)));
  const evidence = { error: e, probes };
  const name = client.target.name;
  const say = probes.map((p) => `${p.address} ${p.result}`).join(', ');
  let why: string;
  if (probes.some((p) => p.result === 'open')) why = `the port accepts connections but vssh does not answer on it (${say}): the daemon hangs, or something else listens there; look at \`journalctl -u vssh\` on ${name}`;
  else if (probes.length && probes.every((p) => p.result === 'refused')) why = `connection refused (${say}): the host is up and nothing listens on the port: the vssh daemon is not running (systemctl start vssh on ${name})`;
  else if (probes.some((p) => p.result === 'timed out')) why = `timed out (${say}): the host is down, or a firewall drops the port`;
  else why = `unreachable (${say || 'no address known'})`;
  return { status: 'problem', diagnosis: `${name}'s vssh daemon did not answer (${e.message}); ${why}`, evidence };
}

/** vssh: the node's daemon answers a sysinfo; when it does not, the diagnosis comes from the controller (refused, timed out, open but silent). */
export const vssh: HealCheck = {
  name: 'vssh',
  describe: 'the vssh daemon answers',
  async run(ctx) {
    try {
      await ctx.info();
    } catch (err) {
      return diagnoseDaemon(ctx.client, err);
    }
    const t = ctx.timing();
    return { status: 'ok', diagnosis: `answers (sysinfo in ${t ? Math.round(t.rttMs) : '?'} ms)`, evidence: { rttMs: t?.rttMs ?? null, address: ctx.client.address ? `${ctx.client.address.host}:${ctx.client.address.port}` : null } };
  },
};
