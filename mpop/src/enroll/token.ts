import { existsSync } from 'node:fs';
import { Registry, encodeToken, wirePaths } from '@meshpop/wire';
import { MpopError } from '../errors.js';

/** JoinTokenInfo is a fresh join token for one node, made on the coordinator's registry. */
export interface JoinTokenInfo {
  token: string;
  id: string;
  expiresAt: string;
}

/** openRegistry opens the Wire registry of this machine, or says plainly that it is not the coordinator's. */
function openRegistry(home: string): Registry {
  const file = wirePaths(home).registry;
  if (!existsSync(file)) {
    throw new MpopError('MPOP_ENROLL', `this machine is not the Wire coordinator (no registry at ${file}): run mpop enroll on the machine where \`wire serve\` runs, with its MESHPOP_HOME.`);
  }
  return new Registry(file);
}

/** checkCoordinator makes sure the join token can be made here, before anything is done on the host: the registry, served once, and the name free. */
export function checkCoordinator(home: string, name: string): void {
  const registry = openRegistry(home);
  try {
    if (!registry.getMeta('url') || !registry.getMeta('fingerprint')) {
      throw new MpopError('MPOP_ENROLL', 'the coordinator has not served yet: start `wire serve --endpoint ADDR` here first.');
    }
    const node = registry.findNode(name);
    if (node) {
      throw new MpopError('MPOP_ENROLL', `a node named ${name} is already in the mesh (${node.meshIp}, ${node.status}): \`wire remove ${name}\` first, or pick another name.`);
    }
  } finally {
    registry.close();
  }
}

/** createJoinToken makes a single-use join token for `name` (as `wire token create` does), valid `ttlMs`. */
export function createJoinToken(home: string, name: string, ttlMs: number): JoinTokenInfo {
  const registry = openRegistry(home);
  try {
    const url = registry.getMeta('url');
    const fingerprint = registry.getMeta('fingerprint');
    const probePort = Number(registry.getMeta('probe_port'));
    if (!url || !fingerprint) throw new MpopError('MPOP_ENROLL', 'the coordinator has not served yet: start `wire serve --endpoint ADDR` here first.');
    let t: { id: string; secret: string; expires: number };
    try {
      t = registry.createToken(name, ttlMs);
    } catch (err) {
      throw new MpopError('MPOP_ENROLL', (err as Error).message, { cause: err });
    }
    return { token: encodeToken({ url, fingerprint, name, id: t.id, secret: t.secret, probePort }), id: t.id, expiresAt: new Date(t.expires).toISOString() };
  } finally {
    registry.close();
  }
}

/** revokeJoinToken revokes a token that was not used (enroll failed before the join); a used one is left. */
export function revokeJoinToken(home: string, id: string): boolean {
  const registry = openRegistry(home);
  try {
    registry.revokeTokens(id);
    return true;
  } catch {
    return false;
  } finally {
    registry.close();
  }
}

/** registeredNode reads a node's record from the registry (its id and mesh address), once it joined. */
export function registeredNode(home: string, name: string): { id: string; meshIp: string; status: string } | undefined {
  const registry = openRegistry(home);
  try {
    const n = registry.findNode(name);
    return n && n.status !== 'removed' ? { id: n.id, meshIp: n.meshIp, status: n.status } : undefined;
  } finally {
    registry.close();
  }
}
