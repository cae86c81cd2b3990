/** MPOP_ERROR_CODES names every way mpop itself can refuse or fail (a node's own failure is a result, not an error). */
export const MPOP_ERROR_CODES = [
  'MPOP_USAGE',
  'MPOP_BAD_INVENTORY',
  'MPOP_NO_MATCH',
  'MPOP_NO_PREVIOUS_RUN',
  'MPOP_UNREACHABLE',
  'MPOP_TIMEOUT',
  'MPOP_CANCELLED',
  'MPOP_REMOTE',
  'MPOP_DEPLOY',
  'MPOP_NO_RELEASE',
  'MPOP_HEALTH',
  'MPOP_ENROLL',
  'MPOP_HOST_KEY',
  'MPOP_SECRET',
  'MPOP_SHARES',
  'MPOP_MONITOR',
  'MPOP_HEAL',
  'MPOP_INTERNAL',
] as const;

/** MpopErrorCode is one of MPOP_ERROR_CODES. */
export type MpopErrorCode = (typeof MPOP_ERROR_CODES)[number];

/** MpopError is the one error class of @meshpop/mpop: a string code and a message a person can act on; the cause kept apart. */
export class MpopError extends Error {
  readonly code: MpopErrorCode;

  constructor(code: MpopErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MpopError';
    this.code = code;
  }
}

/** isMpopError tells an MpopError (optionally with `code`) from any other value. */
export function isMpopError(err: unknown, code?: MpopErrorCode): err is MpopError {
  return err instanceof MpopError && (code === undefined || err.code === code);
}

/** ErrorInfo is an error as results carry it: a code and a message, never a stack or a secret. */
export interface ErrorInfo {
  code: string;
  message: string;
}

/** errorInfo reads any thrown value as {code, message}: the code of a MeshPOP error, else MPOP_INTERNAL. */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' && /^[A-Z]+_[A-Z_]+$/.test(code) ? code : 'MPOP_INTERNAL', message: err.message };
  }
  return { code: 'MPOP_INTERNAL', message: String(err) };
}
