import { join } from 'node:path';
import { meshpopHome } from '@meshpop/vault/light';

/** MpopPaths are the files mpop keeps under `$MESHPOP_HOME/mpop/`. */
export interface MpopPaths {
  dir: string;
  /** groups, roles and the Ansible inventory to read (human-editable YAML) */
  inventory: string;
  /** the previous run's outcome sets, for @failed and @changed */
  lastRun: string;
  /** the monitor's samples and alerts (SQLite) */
  monitorDb: string;
  /** heal checks' thresholds and which fixes run on their own (YAML) */
  healConfig: string;
  /** every change mpop made on a node (heal fixes, rollbacks, secret shares), one JSON line each */
  audit: string;
}

/** mpopPaths returns where mpop keeps its state for a home (default `$MESHPOP_HOME`). */
export function mpopPaths(home: string = meshpopHome()): MpopPaths {
  const dir = join(home, 'mpop');
  return {
    dir,
    inventory: join(dir, 'inventory.yaml'),
    lastRun: join(dir, 'last-run.json'),
    monitorDb: join(dir, 'monitor.db'),
    healConfig: join(dir, 'heal.yaml'),
    audit: join(dir, 'audit.jsonl'),
  };
}
