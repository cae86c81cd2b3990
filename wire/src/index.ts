/**
 * @meshpop/wire is MeshPOP's layer 1: a WireGuard full mesh on 10.99.0.0/16. A coordinator keeps the
 * registry (SQLite), hands out single-use enrollment tokens that pin its certificate, and gives every
 * node a mesh address that is never reused; each node makes its own keys, brings up an interface
 * (kernel WireGuard or wireguard-go) and keeps its peers in step with the registry, applied as diffs.
 */
export { WireError, isWireError, type WireErrorCode } from './errors.js';
export { wirePaths, type WirePaths } from './paths.js';
export { MESH_CIDR, COORDINATOR_IP, meshIp, isTailscaleIp } from './registry/addresses.js';
export { Registry, checkNodeName, type NodeRecord, type NodeInfo, type TokenRecord } from './registry/registry.js';
export { encodeToken, decodeToken, parseTtl, MAX_TOKEN_TTL_MS, type JoinToken } from './token.js';
export { startCoordinator, type Coordinator, type ServeOptions } from './coordinator/serve.js';
export { Relay } from './coordinator/relay.js';
export { ensureTls, type Tls } from './coordinator/tls.js';
export { writeServiceUnit, type ServiceUnit } from './service.js';
export { nodeSecret, type SyncReply, type JoinReply } from './coordinator/api.js';
export { peersFor, KEEPALIVE_S, type PeerView, type CoordinatorView } from './coordinator/peers.js';
export { joinMesh, type JoinOptions } from './node/join.js';
export { runNode, desiredPeers, checkStaleAfter, type DaemonOptions } from './node/daemon.js';
export { checkCanBringUp, hasNetAdmin } from './wg/preflight.js';
export { readNodeState, readCachedPeers, normalizeReply, type NodeState, type CachedPeers } from './node/state.js';
export { meshStatus, describePeers, type MeshStatus, type PeerStatus } from './status.js';
export { parseDump, showInterface, type LiveInterface, type LivePeer } from './wg/show.js';
export { diffPeers, setArgs, type PeerConfig, type PeerChange } from './wg/peers.js';
export { Watchdog, STALE_AFTER_MS, type Path, type TickResult, type WatchdogEvent } from './node/watchdog.js';
