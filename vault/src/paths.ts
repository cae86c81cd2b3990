import { homedir } from 'node:os';
import { join } from 'node:path';

/** VaultPaths are the files the vault keeps under `$MESHPOP_HOME/vault/`. */
export interface VaultPaths {
  home: string;
  dir: string;
  store: string;
  lock: string;
  audit: string;
  auditLock: string;
  /** the log's MACed head: how far it was written (see audit.ts) */
  auditHead: string;
  socket: string;
}

/**
 * meshpopHome returns `$MESHPOP_HOME`, or `~/.meshpop` when it is unset.
 */
export function meshpopHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MESHPOP_HOME && env.MESHPOP_HOME.length > 0 ? env.MESHPOP_HOME : join(homedir(), '.meshpop');
}

/** vaultPaths returns where the vault under `home` (default: meshpopHome()) keeps each file. */
export function vaultPaths(home: string = meshpopHome()): VaultPaths {
  const dir = join(home, 'vault');
  return {
    home,
    dir,
    store: join(dir, 'store.sv'),
    lock: join(dir, 'store.lock'),
    audit: join(dir, 'audit.jsonl'),
    auditLock: join(dir, 'audit.lock'),
    auditHead: join(dir, 'audit.head'),
    socket: join(dir, 'agent.sock'),
  };
}
