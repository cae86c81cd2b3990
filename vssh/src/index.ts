/**
 * @meshpop/vssh is MeshPOP's layer 2: authenticated exec, file transfer and tunnels on TCP 48291.
 * This package is a skeleton so far: it builds and its CLI answers --help, and it has no commands yet.
 */

/** VsshError is the one error class of @meshpop/vssh: a string code (VSSH_...) and a message a person can act on. */
export class VsshError extends Error {
  readonly code: string;

  constructor(code: `VSSH_${string}`, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VsshError';
    this.code = code;
  }
}
