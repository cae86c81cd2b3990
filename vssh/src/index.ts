/**
 * @meshpop/vssh is MeshPOP's layer 2: authenticated exec, file transfer and tunnels over the mesh on
 * TCP 48291. One daemon per node serves signed requests (HMAC-SHA256 with the node's own key, replay
 * and clock windows, signed replies) multiplexed on one connection with per-stream flow control; the
 * client finds nodes through Wire or a static list and keeps a pool of connections.
 */
export { VsshError, isVsshError, type VsshErrorCode } from './errors.js';
export { DEFAULT_PORT, vsshPaths, type VsshPaths } from './paths.js';
export { VERSION } from './version.js';
export { FrameReader, FrameType, encodeFrame, MAX_FRAME, MAX_PAYLOAD, type Frame } from './protocol/frame.js';
export { Mux, Stream, Channel, INITIAL_WINDOW, MAX_STREAMS, type Incoming } from './protocol/conn.js';
export { MAX_SKEW_MS, NonceWindow, canonicalJson, signReply, signRequest, verifyReply, verifyRequest, type RequestAuth } from './protocol/auth.js';
export { KEY_NAMES, deriveNodeKey, nodeKeyFromSecret, nodeSecretOf, controllerMaster, daemonKey, initMaster, encodeIssuedKey, decodeIssuedKey, type KeySource } from './keys.js';
export { startDaemon, type Daemon, type DaemonOptions, type RequestContext, type Handler } from './server/daemon.js';
export { serveNode, type ServeOptions } from './server/serve.js';
export { Policy, PolicyRefusal, loadPolicy, type PolicyRules } from './server/policy.js';
export { sysinfo, type SysInfo, type DiskInfo, type GpuInfo, type MemoryInfo, type ListeningPort } from './server/sysinfo.js';
export type { ExecResult } from './server/exec.js';
export type { FileInfo } from './server/files.js';
export { VsshClient, backoff, type ClientOptions, type ExecOptions, type ExecOutcome, type TransferOptions, type PutResult, type DryRunReport } from './client/client.js';
export { Call } from './client/call.js';
export { Pool, connectNode, type PoolOptions } from './client/pool.js';
export { listNodes, resolveNode, readStaticNodes, type Address, type NodeTarget, type StaticNodes } from './client/resolve.js';
export type { SendStats } from './transfer/send.js';
export type { ReceiveStats } from './transfer/receive.js';
