/** MeshdbErrorCode names each way a meshdb call can fail. */
export type MeshdbErrorCode =
  | 'MESHDB_BAD_INPUT'
  | 'MESHDB_NOT_INDEXED'
  | 'MESHDB_CORRUPT'
  | 'MESHDB_UNREACHABLE'
  | 'MESHDB_NOT_FOUND'
  | 'MESHDB_CHROMA'
  | 'MESHDB_ABORTED'
  | 'MESHDB_INTERRUPTED'
  | 'MESHDB_INTERNAL';

/** MeshdbError is the one error class of @meshpop/meshdb: a string code (MESHDB_...) and a message a person can act on. */
export class MeshdbError extends Error {
  readonly code: MeshdbErrorCode;

  constructor(code: MeshdbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeshdbError';
    this.code = code;
  }
}

/** isMeshdbError tells a MeshdbError apart from anything else thrown. */
export const isMeshdbError = (err: unknown): err is MeshdbError => err instanceof MeshdbError;

/** aborted throws MESHDB_ABORTED when the signal fired. */
export function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new MeshdbError('MESHDB_ABORTED', 'cancelled');
}
