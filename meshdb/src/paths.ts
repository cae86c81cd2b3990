import { join } from 'node:path';
import { meshpopHome } from '@meshpop/vault/light';

/** MeshdbPaths are where meshdb keeps its state under $MESHPOP_HOME/meshdb. */
export interface MeshdbPaths {
  root: string;
  /** one SQLite shard per node */
  shards: string;
  chroma: string;
  config: string;
}

/** meshdbPaths returns the state paths under a MeshPOP home (default $MESHPOP_HOME or ~/.meshpop). */
export function meshdbPaths(home: string = meshpopHome()): MeshdbPaths {
  const root = join(home, 'meshdb');
  return { root, shards: join(root, 'nodes'), chroma: join(root, 'chroma'), config: join(root, 'config.json') };
}

/** validNodeName accepts the names a shard file may carry (no separators, no dots first). */
export const validNodeName = (name: string): boolean => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/.test(name);
