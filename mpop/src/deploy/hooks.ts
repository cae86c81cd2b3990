import { errorInfo } from '../errors.js';
import type { Remote } from './remote.js';

/** HookResult is what a --restart or --health command did on a node (the last attempt for a health check). */
export interface HookResult {
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** its stdout and stderr, trimmed (at most 64 KiB) */
  output: string;
  attempts: number;
}

/** HealthOptions shape the health check's retries. */
export interface HealthOptions {
  /** give up after this long (default 30 s) */
  timeoutMs?: number;
  /** wait this long between attempts (default 1 s) */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** DEFAULT_HEALTH_TIMEOUT_MS is how long a health check may take to pass. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;
/** RESTART_TIMEOUT_MS bounds a --restart command. */
export const RESTART_TIMEOUT_MS = 120_000;

/** restart runs the --restart command once. */
export async function restart(remote: Remote, shell: string, release: string | undefined): Promise<HookResult> {
  const r = await attempt(remote, shell, RESTART_TIMEOUT_MS, release);
  return { ...r, attempts: 1 };
}

/** attempt runs a hook once; a refusal by the node's policy is the hook's failure (the node then rolls back), a lost node is thrown. */
async function attempt(remote: Remote, shell: string, timeoutMs: number, release: string | undefined): Promise<Omit<HookResult, 'attempts'>> {
  try {
    return await remote.hook(shell, timeoutMs, release);
  } catch (err) {
    const info = errorInfo(err);
    if (info.code !== 'VSSH_POLICY' && info.code !== 'VSSH_BAD_INPUT') throw err;
    return { ok: false, exitCode: null, timedOut: false, output: `refused by ${remote.node}: ${info.message}` };
  }
}

/** health runs the --health command until it exits 0 or its time is up (each attempt bounded by what is left). */
export async function health(remote: Remote, shell: string, release: string, opts: HealthOptions = {}): Promise<HookResult> {
  const limit = opts.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const interval = opts.intervalMs ?? 1000;
  const end = performance.now() + limit;
  let attempts = 0;
  for (;;) {
    attempts++;
    const left = Math.max(1000, Math.round(end - performance.now()));
    const r = await attempt(remote, shell, Math.min(left, 10_000), release);
    if (r.ok) return { ...r, attempts };
    if (performance.now() + interval >= end || opts.signal?.aborted) return { ...r, attempts };
    await new Promise((res) => setTimeout(res, interval));
  }
}
