import { existsSync } from 'node:fs';
import { WireError } from '../errors.js';
import { wirePaths } from '../paths.js';
import { Registry } from '../registry/registry.js';

/**
 * openLocalRegistry opens the registry of the coordinator that runs on this machine (for `wire token`,
 * `wire remove`, `wire config`), or throws WIRE_NOT_COORDINATOR when `wire serve` never ran here.
 */
export function openLocalRegistry(home: string): Registry {
  const paths = wirePaths(home);
  if (!existsSync(paths.registry)) {
    throw new WireError('WIRE_NOT_COORDINATOR', `no coordinator registry at ${paths.registry}: run this on the coordinator (where \`wire serve\` runs), with the same MESHPOP_HOME.`);
  }
  return new Registry(paths.registry);
}
