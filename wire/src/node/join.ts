import { existsSync, mkdirSync } from 'node:fs';
import { openVault } from '@meshpop/vault';
import { WireError } from '../errors.js';
import { wirePaths } from '../paths.js';
import { checkNodeName } from '../registry/registry.js';
import { JoinReply } from '../coordinator/api.js';
import { decodeToken } from '../token.js';
import { checkCanBringUp } from '../wg/preflight.js';
import { genKey, publicKey as pubOf } from '../wg/keys.js';
import { callCoordinator } from './client.js';
import { gatherInfo } from './info.js';
import { NodeState, readNodeState, writeCachedPeers, writeNodeState } from './state.js';

/** JoinOptions are what `wire up --join` needs. */
export interface JoinOptions {
  home: string;
  token: string;
  /** this node's name (default: the name the token carries) */
  name?: string;
  iface?: string;
  listenPort?: number;
}

/**
 * joinMesh enrolls this machine with a token: it makes its own WireGuard key pair (the private key is
 * stored in this machine's vault before anything is sent, and never leaves it), proves the token to the
 * coordinator it pins, and keeps what it gets back: its id and mesh address in node.json, and its
 * credential and node secret in the vault (`wire/credential`, `wire/node-secret`). Before it spends the
 * token it checks that this machine can bring the interface up (checkCanBringUp). Given again the token
 * it joined with, it returns the state it has (no `reply`); a removed node may join again with a new one.
 */
export async function joinMesh(opts: JoinOptions): Promise<{ state: NodeState; reply?: JoinReply }> {
  const paths = wirePaths(opts.home);
  const token = decodeToken(opts.token);
  const name = checkNodeName(opts.name ?? token.name);
  if (existsSync(paths.node)) {
    const s = readNodeState(paths.node);
    // The same token again (a join whose `wire up` failed afterwards): carry on as that node.
    if (s.tokenId === token.id && !s.removed) return { state: s };
    if (!s.removed) throw new WireError('WIRE_BAD_INPUT', `this machine already joined the mesh as ${s.name} (${s.meshIp}); run \`wire up\` without --join, or \`wire down\` and delete ${paths.node} to join again.`);
  }
  const listenPort = opts.listenPort ?? 51820;
  const iface = opts.iface ?? 'wire0';
  // Everything that can be checked here is checked before the token is spent.
  await checkCanBringUp(iface, listenPort);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const vault = await openVault({ home: opts.home });
  try {
    const privateKey = await genKey();
    await vault.set('wire/private-key', privateKey, { tags: ['wire'] });
    const host = new URL(token.url).hostname;
    const info = await gatherInfo(host, token.probePort, listenPort);
    const reply = await callCoordinator<JoinReply>({ url: token.url, fingerprint: token.fingerprint }, '/v1/join', {
      token: { id: token.id, secret: token.secret },
      name,
      publicKey: await pubOf(privateKey),
      ...info,
    });
    await vault.set('wire/credential', `${reply.self.id}.${reply.credential}`, { tags: ['wire'] });
    await vault.set('wire/node-secret', reply.nodeSecret, { tags: ['wire', 'vssh'] });
    const state: NodeState = {
      id: reply.self.id,
      name,
      meshIp: reply.self.meshIp,
      coordinator: { url: token.url, fingerprint: token.fingerprint, host, probePort: token.probePort },
      iface,
      listenPort,
      joined: new Date().toISOString(),
      tokenId: token.id,
    };
    writeNodeState(paths.node, state);
    writeCachedPeers(paths.peers, reply);
    return { state, reply };
  } finally {
    await vault.close();
  }
}
