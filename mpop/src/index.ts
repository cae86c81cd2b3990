/**
 * @meshpop/mpop is MeshPOP's layer 3: the fleet control plane and its MCP server.
 * This package is a skeleton so far: it builds and its CLI answers --help, and it has no commands yet.
 */

/** MpopError is the one error class of @meshpop/mpop: a string code (MPOP_...) and a message a person can act on. */
export class MpopError extends Error {
  readonly code: string;

  constructor(code: `MPOP_${string}`, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MpopError';
    this.code = code;
  }
}
