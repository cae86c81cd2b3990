import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { meshpopHome } from '@meshpop/vault/light';
import { openVaultQuick } from '../vault.js';
import { VsshError } from '../errors.js';
import { daemonKey } from '../keys.js';
import { Logger, logger } from '../log.js';
import { DEFAULT_PORT, vsshPaths } from '../paths.js';
import { Daemon, Listener, startDaemon } from './daemon.js';
import { loadPolicy, Policy } from './policy.js';

/** ServeOptions are `vssh serve`'s choices; everything else comes from $MESHPOP_HOME. */
export interface ServeOptions {
  home?: string;
  /** addresses to bind (default: this node's mesh address, else 127.0.0.1); plain unless `tls` */
  bind?: string[];
  /** addresses to bind with TLS 1.3, beside the plain ones (e.g. the Tailscale or public address) */
  tlsBind?: string[];
  port?: number;
  /** TLS 1.3 on every `bind` address too; required for one outside the mesh and loopback */
  tls?: boolean;
  /** policy file (default $MESHPOP_HOME/vssh/policy.json when present) */
  policyFile?: string;
  /** this node's id, when its key is derived from a master in its own vault */
  id?: string;
  name?: string;
  log?: Logger;
}

const inMesh = (a: string): boolean => /^10\.99\.\d+\.\d+$/.test(a);
const isLoopback = (a: string): boolean => /^127\./.test(a) || a === '::1' || a === 'localhost';

/** identity reads who this node is in the mesh (name, id, mesh IP), if it is in one. */
async function identity(home: string): Promise<{ name: string; id: string; meshIp: string } | undefined> {
  const wirePath = `${home}/wire`;
  if (!existsSync(wirePath)) return undefined;
  const wire = await import('@meshpop/wire');
  const paths = wire.wirePaths(home);
  if (existsSync(paths.node)) {
    const s = wire.readNodeState(paths.node);
    return { name: s.name, id: s.id, meshIp: s.meshIp };
  }
  if (existsSync(paths.registry)) return { name: 'coordinator', id: 'coordinator', meshIp: wire.COORDINATOR_IP };
  return undefined;
}

/**
 * serveNode starts this machine's daemon: its key from the vault (keys.ts), bound to its mesh address
 * unless told otherwise, TLS 1.3 wherever it listens outside the mesh, and its policy file.
 */
export async function serveNode(opts: ServeOptions = {}): Promise<Daemon> {
  const home = opts.home ?? meshpopHome();
  const paths = vsshPaths(home);
  const me = await identity(home);
  const vault = await openVaultQuick(home);
  let key: Uint8Array;
  try {
    key = (await daemonKey(vault, opts.id ?? me?.id)).key;
  } finally {
    await vault.close();
  }
  const tlsBind = opts.tlsBind ?? [];
  const plain = opts.bind?.length ? opts.bind : tlsBind.length ? [] : [me?.meshIp ?? '127.0.0.1'];
  const listeners: Listener[] = [...plain.map((host) => ({ host, tls: opts.tls === true })), ...tlsBind.map((host) => ({ host, tls: true }))];
  const twice = listeners.find((l, i) => listeners.findIndex((m) => m.host === l.host) !== i);
  if (twice) throw new VsshError('VSSH_BAD_INPUT', `${twice.host} is given twice (--bind and --tls-bind take each address once).`);
  const outside = listeners.filter((l) => !l.tls && !inMesh(l.host) && !isLoopback(l.host)).map((l) => l.host);
  if (outside.length) {
    throw new VsshError('VSSH_TLS', `listening on ${outside.join(', ')} (outside the mesh) requires TLS: give it with --tls-bind (TLS on that address only), or add --tls (TLS on every address).`);
  }
  let tls: { cert: string; key: string } | undefined;
  if (listeners.some((l) => l.tls)) {
    const { ensureTls } = await import('@meshpop/wire');
    tls = await ensureTls(paths.tlsCert, paths.tlsKey, listeners.filter((l) => l.tls).map((l) => l.host), 'meshpop-vssh');
  }
  const policyFile = opts.policyFile ?? (existsSync(paths.policy) ? paths.policy : undefined);
  const policy = policyFile ? await loadPolicy(policyFile) : Policy.open;
  return startDaemon({ key, name: opts.name ?? me?.name ?? hostname(), hosts: listeners, port: opts.port ?? DEFAULT_PORT, tls, policy, log: opts.log ?? logger() });
}
