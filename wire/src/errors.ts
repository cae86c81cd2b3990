/** WireErrorCode names every way wire can refuse or fail. */
export type WireErrorCode =
  | 'WIRE_MISSING_TOOL'
  | 'WIRE_COMMAND_FAILED'
  | 'WIRE_BAD_INPUT'
  | 'WIRE_BAD_TOKEN'
  | 'WIRE_TOKEN_USED'
  | 'WIRE_TOKEN_EXPIRED'
  | 'WIRE_TOKEN_NAME'
  | 'WIRE_TOKEN_REVOKED'
  | 'WIRE_NOT_PERMITTED'
  | 'WIRE_NAME_TAKEN'
  | 'WIRE_UNAUTHORIZED'
  | 'WIRE_REMOVED'
  | 'WIRE_NOT_FOUND'
  | 'WIRE_CERT_MISMATCH'
  | 'WIRE_UNREACHABLE'
  | 'WIRE_PROTOCOL'
  | 'WIRE_NOT_JOINED'
  | 'WIRE_NOT_COORDINATOR'
  | 'WIRE_ADDRESS_SPACE_FULL'
  | 'WIRE_NOT_RUNNING';

/**
 * WireError is the one error class of @meshpop/wire: a string code and a message a person can act on.
 * Messages never carry private keys, credentials or token secrets.
 */
export class WireError extends Error {
  readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WireError';
    this.code = code;
  }
}

/** isWireError tells whether `err` is a WireError, optionally of one code. */
export function isWireError(err: unknown, code?: WireErrorCode): err is WireError {
  return err instanceof WireError && (code === undefined || err.code === code);
}
