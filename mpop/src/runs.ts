import { existsSync, readFileSync } from 'node:fs';
import { MpopError } from './errors.js';
import { writeFileAtomic } from './fsutil.js';

/** LastRun is what the previous fan-out left for `@failed` and `@changed`: the nodes of each outcome. */
export interface LastRun {
  /** the command that ran ("exec", "deploy", ...) */
  command: string;
  target: string;
  time: string;
  ok: string[];
  failed: string[];
  changed: string[];
}

/** readLastRun reads the previous run's sets, or undefined when no run was saved (or the file is unreadable). */
export function readLastRun(file: string): LastRun | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as LastRun;
    if (!Array.isArray(r.failed) || !Array.isArray(r.changed) || !Array.isArray(r.ok)) return undefined;
    return r;
  } catch {
    return undefined;
  }
}

/** saveLastRun records a run's sets, atomically. */
export function saveLastRun(file: string, run: LastRun): void {
  writeFileAtomic(file, JSON.stringify(run, null, 2) + '\n', 0o644);
}

/** lastRunSet returns the nodes of `@failed` or `@changed`, or says plainly why there are none. */
export function lastRunSet(file: string, which: 'failed' | 'changed' | 'ok'): string[] {
  const run = readLastRun(file);
  if (!run) throw new MpopError('MPOP_NO_PREVIOUS_RUN', `@${which} is the set of the previous run, and no run was saved yet (${file}); run mpop exec or deploy first.`);
  return run[which];
}

/** runSets reads a fan-out's results as the sets @ok, @failed (failed, unreachable, timed out, cancelled) and @changed. */
export function runSets(results: { node: string; outcome: string; changed: boolean }[]): Pick<LastRun, 'ok' | 'failed' | 'changed'> {
  return {
    ok: results.filter((r) => r.outcome === 'ok').map((r) => r.node),
    failed: results.filter((r) => r.outcome !== 'ok' && r.outcome !== 'skipped').map((r) => r.node),
    changed: results.filter((r) => r.changed).map((r) => r.node),
  };
}

/** recordRun saves a fan-out's sets as the previous run (for @failed / @changed). */
export function recordRun(file: string, command: string, target: string, results: { node: string; outcome: string; changed: boolean }[]): void {
  saveLastRun(file, { command, target, time: new Date().toISOString(), ...runSets(results) });
}
