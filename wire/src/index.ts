/**
 * @meshpop/wire is MeshPOP's layer 1: the WireGuard full mesh on 10.99.0.0/16.
 * This package is a skeleton so far: it builds and its CLI answers --help, and it has no commands yet.
 */

/** WireError is the one error class of @meshpop/wire: a string code (WIRE_...) and a message a person can act on. */
export class WireError extends Error {
  readonly code: string;

  constructor(code: `WIRE_${string}`, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WireError';
    this.code = code;
  }
}
