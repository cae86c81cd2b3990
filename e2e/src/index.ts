/** The MeshPOP lab: real hosts in network namespaces, and named topologies built from them. */
export { Lab, waitFor, WIRE_BIN, SV_BIN, VSSH_BIN, type Host, type Result } from './lab.js';
export { lan, hubAndNatted, blockedPair, tailnetPair, serveHub, tokenFor, joinNode, tcpEcho, startEcho, SYNC_S, STALE_S, type Mesh, type HubOptions } from './topologies.js';
