import { join } from 'node:path';
import { meshpopHome } from '@meshpop/vault';

/** WirePaths are the files wire keeps under `$MESHPOP_HOME/wire/`. */
export interface WirePaths {
  home: string;
  dir: string;
  /** the coordinator's registry (SQLite) */
  registry: string;
  /** the coordinator's TLS certificate and key (0600) */
  tlsCert: string;
  tlsKey: string;
  /** a node's identity: id, name, mesh IP, coordinator URL and pinned fingerprint */
  node: string;
  /** a node's last peer list, used while the coordinator cannot be reached */
  peers: string;
  /** pid of the running `wire up` or `wire serve` */
  upPid: string;
  servePid: string;
}

/** wirePaths returns where wire keeps each file under `home` (default: $MESHPOP_HOME). */
export function wirePaths(home: string = meshpopHome()): WirePaths {
  const dir = join(home, 'wire');
  return {
    home,
    dir,
    registry: join(dir, 'registry.db'),
    tlsCert: join(dir, 'tls', 'cert.pem'),
    tlsKey: join(dir, 'tls', 'key.pem'),
    node: join(dir, 'node.json'),
    peers: join(dir, 'peers.json'),
    upPid: join(dir, 'up.pid'),
    servePid: join(dir, 'serve.pid'),
  };
}
