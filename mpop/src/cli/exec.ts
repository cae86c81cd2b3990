/**
 * `mpop exec`, without oclif: the command most often run, started as fast as Node allows (bin/run.js loads
 * this file directly). The oclif command (commands/exec.ts) calls the same execMain, so help and parsing agree.
 */
import { parseArgs } from 'node:util';
import { meshpopHome } from '@meshpop/vault/light';
import { Pool } from '@meshpop/vssh/client';
import { MpopError } from '../errors.js';
import { commandText, execFleet, type ExecRequest, type RemoteCommand } from '../exec.js';
import { loadInventory } from '../inventory/inventory.js';
import { mpopPaths } from '../paths.js';
import { recordRun } from '../runs.js';
import type { FanoutResult } from '../fanout/run.js';
import type { ExecValue } from '../exec.js';
import { exitCodeOf, isKnownError, paint, parseDuration, reportError } from './format.js';
import { liveView, renderFolded, renderRecap } from './fanout-view.js';

/** ExecArgs is a parsed `mpop exec` command line. */
export interface ExecArgs {
  target: string;
  command: RemoteCommand;
  json: boolean;
  stream: boolean;
  request: ExecRequest;
  concurrency?: number;
  batch?: string;
  stopOnError: boolean;
  inventory?: string;
}

/** parseExecArgs reads `TARGET [flags] -- argv...` or `TARGET --shell STRING`. */
export function parseExecArgs(argv: string[]): ExecArgs {
  const dash = argv.indexOf('--');
  const head = dash >= 0 ? argv.slice(0, dash) : argv;
  const tail = dash >= 0 ? argv.slice(dash + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({
      args: head,
      allowPositionals: true,
      strict: true,
      options: {
        shell: { type: 'string', short: 'c' },
        timeout: { type: 'string', short: 't' },
        env: { type: 'string', short: 'e', multiple: true },
        cwd: { type: 'string' },
        concurrency: { type: 'string', short: 'f' },
        batch: { type: 'string', short: 'b' },
        'stop-on-error': { type: 'boolean' },
        stream: { type: 'boolean', short: 's' },
        json: { type: 'boolean' },
        inventory: { type: 'string', short: 'i' },
        'max-output': { type: 'string' },
      },
    });
  } catch (err) {
    throw new MpopError('MPOP_USAGE', `${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}; see mpop exec --help`);
  }
  const { values: v, positionals } = parsed;
  const [target, ...rest] = positionals;
  if (!target) throw new MpopError('MPOP_USAGE', 'mpop exec needs a target and a command: mpop exec all -- uptime, or mpop exec @web --shell \'df -h | head\'');
  const words = [...rest, ...tail];
  if (v.shell !== undefined && words.length) throw new MpopError('MPOP_USAGE', 'give the command either after -- or with --shell, not both');
  if (v.shell === undefined && !words.length) throw new MpopError('MPOP_USAGE', `no command to run on ${target}: put it after --, as in mpop exec ${target} -- uptime`);
  const command: RemoteCommand = v.shell !== undefined ? { shell: v.shell } : { argv: words };
  const env: Record<string, string> = {};
  for (const e of v.env ?? []) {
    const i = e.indexOf('=');
    if (i <= 0) throw new MpopError('MPOP_USAGE', `--env "${e}" is not NAME=value`);
    env[e.slice(0, i)] = e.slice(i + 1);
  }
  const int = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new MpopError('MPOP_USAGE', `--${flag} "${text}" is not a positive whole number`);
    return Number(text);
  };
  const request: ExecRequest = { command };
  if (Object.keys(env).length) request.env = env;
  if (v.cwd) request.cwd = v.cwd;
  if (v.timeout) request.timeoutMs = parseDuration(v.timeout, '--timeout');
  const maxOut = int('max-output', v['max-output']);
  if (maxOut) request.maxOutputBytes = maxOut;
  const out: ExecArgs = { target, command, json: v.json === true, stream: v.stream === true, request, stopOnError: v['stop-on-error'] === true };
  const concurrency = int('concurrency', v.concurrency);
  if (concurrency) out.concurrency = concurrency;
  if (v.batch) out.batch = v.batch;
  if (v.inventory) out.inventory = v.inventory;
  return out;
}

/** execJson is the --json form of a run: one entry per node. */
export function execJson(a: ExecArgs, run: FanoutResult<ExecValue>): Record<string, unknown> {
  return {
    target: a.target,
    command: commandText(a.command),
    nodes: run.results.map((r) => ({
      node: r.node,
      outcome: r.outcome,
      exitCode: r.value?.exitCode ?? null,
      signal: r.value?.signal ?? null,
      stdout: r.value?.stdout ?? '',
      stderr: r.value?.stderr ?? '',
      truncated: r.value?.truncated ?? false,
      durationMs: Math.round(r.durationMs),
      error: r.error ?? null,
    })),
    counts: run.counts,
    durationMs: Math.round(run.durationMs),
    ...(run.stopped ? { stopped: run.stopped } : {}),
  };
}

/** execMain runs `mpop exec ARGS` and returns the exit code: 0 when every node exited 0, 1 when any did not. */
export async function execMain(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  let pool: Pool | undefined;
  try {
    const a = parseExecArgs(argv);
    const home = meshpopHome();
    const inv = await loadInventory({ home, ...(a.inventory ? { ansible: a.inventory } : {}) });
    const nodes = inv.resolve(a.target);
    pool = new Pool({ home, retries: 1 });
    const ac = new AbortController();
    const onSignal = (): void => (ac.signal.aborted ? process.exit(130) : ac.abort());
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const view = liveView({ quiet: json, stream: a.stream, label: `exec ${commandText(a.command).slice(0, 40)}` });
    const run = await execFleet(pool, nodes, a.request, {
      ...(a.concurrency ? { concurrency: a.concurrency } : {}),
      ...(a.batch ? { batch: a.batch } : {}),
      stopOnError: a.stopOnError,
      ...(a.request.timeoutMs ? { timeoutMs: a.request.timeoutMs } : {}),
      signal: ac.signal,
      onProgress: (p) => view.onProgress(p),
      onOutput: (n, s, c) => view.onOutput(n, s, c),
    });
    view.stop();
    recordRun(mpopPaths(home).lastRun, 'exec', a.target, run.results);
    if (json) process.stdout.write(JSON.stringify(execJson(a, run), null, 2) + '\n');
    else {
      const c = paint(process.stdout);
      if (!a.stream) {
        const folded = renderFolded(run.results.filter((r) => r.value).map((r) => ({ node: r.node, text: r.value!.stdout + r.value!.stderr })), c);
        if (folded) process.stdout.write(folded + '\n\n');
      }
      process.stdout.write(renderRecap(run, c, (r) => (r.value?.exitCode && r.value.exitCode !== 0 ? `exit ${r.value.exitCode}` : undefined)) + '\n');
    }
    return run.results.every((r) => r.outcome === 'ok') ? 0 : 1;
  } catch (err) {
    if (!isKnownError(err)) throw err;
    reportError(err, json);
    return exitCodeOf(err);
  } finally {
    await pool?.close();
  }
}
