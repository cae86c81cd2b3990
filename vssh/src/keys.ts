import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Vault } from '@meshpop/vault';
import { VsshError } from './errors.js';

/**
 * The key chain (see PROTOCOL.md, "Keys"). The controller holds a master secret; Wire's coordinator
 * gives each joining node a node secret, HKDF(master, "meshpop-wire node-secret " + node id); vssh's node
 * key is HKDF(node secret, "meshpop-vssh node-key"). So a daemon derives its key from what Wire left in
 * its vault, the controller derives any node's key from the master, and Wire never learns what vssh
 * does with the secret. A node outside the mesh imports its key once (`vssh keys issue NODE`).
 */

/** Vault names vssh reads. */
export const KEY_NAMES = {
  master: 'vssh/master',
  nodeKey: 'vssh/node-key',
  wireMaster: 'wire/mesh-master',
  wireSecret: 'wire/node-secret',
} as const;

const hkdf = (ikm: Uint8Array, info: string): Uint8Array => new Uint8Array(hkdfSync('sha256', ikm, new Uint8Array(0), info, 32));

/** nodeSecretOf is a node's secret as Wire's coordinator derives it (wire's `nodeSecret`, as bytes). */
export function nodeSecretOf(master: Uint8Array, nodeId: string): Uint8Array {
  return hkdf(master, `meshpop-wire node-secret ${nodeId}`);
}

/** nodeKeyFromSecret is the vssh key of the node holding `secret`. */
export function nodeKeyFromSecret(secret: Uint8Array): Uint8Array {
  return hkdf(secret, 'meshpop-vssh node-key');
}

/** deriveNodeKey is the key of node `nodeId`, as the controller derives it from its master. */
export function deriveNodeKey(master: Uint8Array, nodeId: string): Uint8Array {
  return nodeKeyFromSecret(nodeSecretOf(master, nodeId));
}

const fromB64 = (s: string, name: string): Uint8Array => {
  const b = Buffer.from(s.trim(), 'base64');
  if (b.length < 32) throw new VsshError('VSSH_NO_KEY', `the vault entry ${name} is not a 32-byte base64 key; replace it (\`vssh keys import\` or \`vssh keys init\`).`);
  return new Uint8Array(b);
};

/** KeySource says where a key came from (names only; never the key). */
export type KeySource = (typeof KEY_NAMES)[keyof typeof KEY_NAMES];

/** controllerMaster returns the master secret the controller derives node keys from: vssh/master, else Wire's mesh master. */
export async function controllerMaster(vault: Vault): Promise<{ master: Uint8Array; source: KeySource }> {
  for (const name of [KEY_NAMES.master, KEY_NAMES.wireMaster] as const) {
    if (await vault.has(name)) return { master: fromB64(await vault.getString(name), name), source: name };
  }
  throw new VsshError('VSSH_NO_KEY', 'this machine holds no vssh master (vssh/master or wire/mesh-master in its vault): run `vssh keys init` on the controller, or use the Wire coordinator\'s machine.');
}

/**
 * daemonKey returns the key a daemon answers with: vssh/node-key (imported), else the one derived from
 * Wire's node secret, else, on the controller itself, the key it would derive for `ownId`.
 */
export async function daemonKey(vault: Vault, ownId: string | undefined): Promise<{ key: Uint8Array; source: KeySource }> {
  if (await vault.has(KEY_NAMES.nodeKey)) return { key: fromB64(await vault.getString(KEY_NAMES.nodeKey), KEY_NAMES.nodeKey), source: KEY_NAMES.nodeKey };
  if (await vault.has(KEY_NAMES.wireSecret)) return { key: nodeKeyFromSecret(fromB64(await vault.getString(KEY_NAMES.wireSecret), KEY_NAMES.wireSecret)), source: KEY_NAMES.wireSecret };
  if (ownId) {
    try {
      const { master, source } = await controllerMaster(vault);
      return { key: deriveNodeKey(master, ownId), source };
    } catch {
      /* fall through to the message below */
    }
  }
  throw new VsshError('VSSH_NO_KEY', 'this node has no vssh key: join the mesh (`wire up --join TOKEN`), or run the command `vssh keys issue NODE` prints on the controller.');
}

/** initMaster creates vssh/master when the vault holds no master yet, and says which one is in use. */
export async function initMaster(vault: Vault): Promise<{ source: KeySource; created: boolean }> {
  try {
    const { source } = await controllerMaster(vault);
    return { source, created: false };
  } catch {
    await vault.set(KEY_NAMES.master, randomBytes(32).toString('base64'), { tags: ['vssh'] });
    return { source: KEY_NAMES.master, created: true };
  }
}

const check = (id: string, key: Uint8Array): string => createHash('sha256').update(`${id}\n`).update(key).digest('hex').slice(0, 8);

/** encodeIssuedKey packs a node id and key into the one-time import text `vsk1.<id>.<key>.<check>`. */
export function encodeIssuedKey(nodeId: string, key: Uint8Array): string {
  return ['vsk1', Buffer.from(nodeId).toString('base64url'), Buffer.from(key).toString('base64url'), check(nodeId, key)].join('.');
}

/** decodeIssuedKey reads an import text, refusing a truncated or mistyped one. */
export function decodeIssuedKey(text: string): { nodeId: string; key: Uint8Array } {
  const parts = text.trim().split('.');
  const bad = (): VsshError => new VsshError('VSSH_BAD_INPUT', 'that is not a key from `vssh keys issue` (expected vsk1.<id>.<key>.<check>); copy the whole line again.');
  if (parts.length !== 4 || parts[0] !== 'vsk1') throw bad();
  const nodeId = Buffer.from(parts[1]!, 'base64url').toString('utf8');
  const key = new Uint8Array(Buffer.from(parts[2]!, 'base64url'));
  if (key.length !== 32 || nodeId.length === 0 || check(nodeId, key) !== parts[3]) throw bad();
  return { nodeId, key };
}
