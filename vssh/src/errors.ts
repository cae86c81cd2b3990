/** VSSH_ERROR_CODES names every way vssh can refuse or fail. */
export const VSSH_ERROR_CODES = [
  'VSSH_FRAME_TOO_LARGE',
  'VSSH_FRAME_MALFORMED',
  'VSSH_AUTH_BAD_MAC',
  'VSSH_AUTH_STALE',
  'VSSH_AUTH_REPLAY',
  'VSSH_AUTH_MALFORMED',
  'VSSH_BAD_INPUT',
  'VSSH_POLICY',
  'VSSH_UNKNOWN_VERB',
  'VSSH_NOT_FOUND',
  'VSSH_UNKNOWN_NODE',
  'VSSH_NO_KEY',
  'VSSH_UNREACHABLE',
  'VSSH_CONNECTION_LOST',
  'VSSH_CANCELLED',
  'VSSH_TIMEOUT',
  'VSSH_DISK_FULL',
  'VSSH_IO',
  'VSSH_INTEGRITY',
  'VSSH_TLS',
  'VSSH_BUSY',
  'VSSH_INTERNAL',
] as const;

/** VsshErrorCode is one of VSSH_ERROR_CODES. */
export type VsshErrorCode = (typeof VSSH_ERROR_CODES)[number];

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

/** isVsshError tells a VsshError (optionally with `code`) from any other value. */
export function isVsshError(err: unknown, code?: VsshErrorCode): err is VsshError {
  return err instanceof VsshError && (code === undefined || err.code === code);
}

/** ioError turns a Node fs error into a VsshError that says what failed and what to do. */
export function ioError(err: unknown, action: string, file: string): VsshError {
  if (err instanceof VsshError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new VsshError('VSSH_DISK_FULL', `no space left on the node's disk while ${action} ${file}; free some space and retry (nothing partial was kept at the destination).`, { cause: err });
  if (code === 'ENOENT') return new VsshError('VSSH_NOT_FOUND', `${file} does not exist (while ${action} it).`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new VsshError('VSSH_IO', `permission denied while ${action} ${file}.`, { cause: err });
  if (code === 'EISDIR') return new VsshError('VSSH_IO', `${file} is a directory (while ${action} it); give a file, or a folder to copy a tree.`, { cause: err });
  if (code === 'ENOTDIR') return new VsshError('VSSH_IO', `a part of ${file} is not a directory (while ${action} it).`, { cause: err });
  return new VsshError('VSSH_IO', `could not finish ${action} ${file} (${code ?? String(err)}).`, { cause: err });
}
