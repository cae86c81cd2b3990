import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const steps = [];

/** onCleanup registers a synchronous `fn` for cleanup(); the last registered runs first. */
export function onCleanup(fn) {
  steps.push(fn);
}

/** cleanup runs every registered step once, newest first; a failing step does not stop the others. */
export function cleanup() {
  while (steps.length) {
    try {
      steps.pop()();
    } catch (err) {
      process.stderr.write(`bench cleanup: ${err.message}\n`);
    }
  }
}

/** tempDir creates a fresh directory under `base` (default: the OS temp dir) and returns its path; cleanup() removes it. */
export function tempDir(prefix, base = tmpdir()) {
  const dir = mkdtempSync(join(base, prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}
