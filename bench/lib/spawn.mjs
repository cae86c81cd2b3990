import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * run spawns `cmd args` to completion and returns its stdout. It throws an error naming the command,
 * its exit code and stderr when the command fails. `input` is written to its stdin.
 */
export function run(cmd, args, { env = process.env, input } = {}) {
  const r = spawnSync(cmd, args, { env, input, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${cmd} ${args.join(' ')} failed (${why}): ${(r.stderr ?? '').trim().slice(0, 500)}`);
  }
  return r.stdout;
}

/**
 * timeRuns spawns `cmd args` `warmup` times untimed, then `runs` times timed, and returns the wall
 * times in ms. `check(stdout)` runs on every output, so that a failing command is never timed as a fast one.
 */
export function timeRuns(cmd, args, { env = process.env, warmup = 3, runs = 30, check = () => {} } = {}) {
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    const start = performance.now();
    const out = run(cmd, args, { env });
    const ms = performance.now() - start;
    check(out);
    if (i >= warmup) times.push(ms);
  }
  return times;
}

/** timeOnce spawns `cmd args` to completion and returns its wall time in ms and its stdout (run's options). */
export function timeOnce(cmd, args, opts) {
  const start = performance.now();
  const out = run(cmd, args, opts);
  return { ms: performance.now() - start, out };
}
