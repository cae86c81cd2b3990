/** VsshErrorCode names every way vssh can refuse or fail. */
export type VsshErrorCode =
  | 'VSSH_FRAME_TOO_LARGE'
  | 'VSSH_FRAME_MALFORMED'
  | 'VSSH_AUTH_BAD_MAC'
  | 'VSSH_AUTH_STALE'
  | 'VSSH_AUTH_REPLAY'
  | 'VSSH_AUTH_MALFORMED'
  | 'VSSH_BAD_INPUT';

/**
 * VsshError is the one error class of @meshpop/vssh: a string code and a message a person can act on.
 * Messages never carry keys, MACs of secrets, or file contents.
 */
export class VsshError extends Error {
  readonly code: VsshErrorCode;

  constructor(code: VsshErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VsshError';
    this.code = code;
  }
}
