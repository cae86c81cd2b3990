import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { deriveNodeKey } from '../src/keys.js';
import { Daemon, DaemonOptions, startDaemon } from '../src/server/daemon.js';
import { ClientOptions, VsshClient } from '../src/client/client.js';
import { Address } from '../src/client/resolve.js';

/** Loop is a daemon on a loopback port and a client holding the same node key. */
export interface Loop {
  daemon: Daemon;
  client: VsshClient;
  key: Uint8Array;
  address: Address;
  close(): Promise<void>;
}

/** loop starts an in-process daemon (options as given) and a client for it. */
export async function loop(opts: Partial<DaemonOptions> = {}, clientOpts: ClientOptions = {}): Promise<Loop> {
  const key = opts.key ?? deriveNodeKey(randomBytes(32), 'n1');
  const daemon = await startDaemon({ port: 0, name: 'n1', ...opts, key });
  const first = daemon.addresses[0]!;
  const address: Address = { host: first.host, port: daemon.port, tls: first.tls, via: 'static' };
  const client = new VsshClient({ name: 'n1', id: 'n1', addresses: [address] }, key, clientOpts);
  return {
    daemon,
    client,
    key,
    address,
    async close() {
      client.close();
      await daemon.close();
    },
  };
}

/** processesWith lists live processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmd.includes(marker) && state !== 'Z' && existsSync(`/proc/${pid}`)) pids.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** waitFor polls `fn` until it returns true or `ms` pass. */
export async function waitFor(fn: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn();
}
