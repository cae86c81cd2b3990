import { join } from 'node:path';
import { meshpopHome } from '@meshpop/vault/light';

/** DEFAULT_PORT is vssh's TCP port on every node. */
export const DEFAULT_PORT = 48291;

/** VsshPaths are the files vssh keeps under `$MESHPOP_HOME/vssh/`. */
export interface VsshPaths {
  home: string;
  dir: string;
  /** the static node list: name -> addresses and port (for nodes outside a Wire mesh) */
  nodes: string;
  /** the daemon's TLS certificate and key, made on first `vssh serve --tls` */
  tlsCert: string;
  tlsKey: string;
  /** the daemon's policy, read by `vssh serve` when present */
  policy: string;
  /** pid of the running `vssh serve` */
  servePid: string;
}

/** vsshPaths returns where vssh keeps each file under `home` (default: $MESHPOP_HOME). */
export function vsshPaths(home: string = meshpopHome()): VsshPaths {
  const dir = join(home, 'vssh');
  return {
    home,
    dir,
    nodes: join(dir, 'nodes.json'),
    tlsCert: join(dir, 'tls', 'cert.pem'),
    tlsKey: join(dir, 'tls', 'key.pem'),
    policy: join(dir, 'policy.json'),
    servePid: join(dir, 'serve.pid'),
  };
}
