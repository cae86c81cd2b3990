/**
 * @meshpop/vssh/client: the client side of vssh alone (connections, the pool, node resolution, errors), without
 * the daemon's modules, so a controller command that only talks to nodes starts fast.
 */
export { VsshError, isVsshError, type VsshErrorCode } from './errors.js';
export { DEFAULT_PORT, vsshPaths, type VsshPaths } from './paths.js';
export { VsshClient, backoff, type ClientOptions, type ExecOptions, type ExecOutcome, type TransferOptions, type PutResult, type DryRunReport } from './client/client.js';
export { Call } from './client/call.js';
export { Pool, connectNode, type PoolOptions } from './client/pool.js';
export { listNodes, resolveNode, readStaticNodes, type Address, type NodeTarget, type StaticNodes } from './client/resolve.js';
export { deriveNodeKey } from './keys.js';
export type { ExecResult } from './server/exec.js';
export type { FileInfo } from './server/files.js';
export type { SysInfo, DiskInfo, GpuInfo, MemoryInfo, ListeningPort } from './server/sysinfo.js';
export type { SendStats } from './transfer/send.js';
export type { ReceiveStats } from './transfer/receive.js';
