/**
 * @meshpop/vssh is MeshPOP's layer 2: authenticated exec, file transfer and tunnels over the mesh on TCP 48291.
 * So far it holds the protocol's framing and authentication (PROTOCOL.md); the daemon, the client and the
 * CLI's commands come in later work, and the CLI lists none until they exist.
 */
export { VsshError, type VsshErrorCode } from './errors.js';
export { FrameReader, FrameType, encodeFrame, MAX_FRAME, MAX_PAYLOAD, type Frame } from './protocol/frame.js';
export {
  MAX_SKEW_MS,
  NonceWindow,
  canonicalJson,
  deriveNodeKey,
  signReply,
  signRequest,
  verifyReply,
  verifyRequest,
  type RequestAuth,
} from './protocol/auth.js';
