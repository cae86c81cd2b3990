/**
 * @meshpop/meshdb is MeshPOP's layer 4: search over the files of every node (SQLite FTS5 and Chroma).
 * This package is a skeleton so far: it builds and its CLI answers --help, and it has no commands yet.
 */

/** MeshdbError is the one error class of @meshpop/meshdb: a string code (MESHDB_...) and a message a person can act on. */
export class MeshdbError extends Error {
  readonly code: string;

  constructor(code: `MESHDB_${string}`, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeshdbError';
    this.code = code;
  }
}
