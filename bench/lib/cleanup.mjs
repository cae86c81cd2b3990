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

/**
 * ownChild ties a child process to cleanup() (SIGKILL if still running) and returns how to wait for it:
 * `exit` resolves with its exit code or signal, `exited()` tells whether it has, and `stop()` sends SIGTERM,
 * then SIGKILL after `graceMs`, and waits.
 */
export function ownChild(child, graceMs = 5000) {
  let exited = false;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve(code ?? signal);
    }),
  );
  onCleanup(() => exited || child.kill('SIGKILL'));
  return {
    exit,
    exited: () => exited,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
