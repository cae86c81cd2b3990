/**
 * `mpop status`, without oclif: the fleet overview is the command run most after exec, so it can start as
 * fast (bin/run.js may load this file directly, as it does cli/exec.ts). The oclif command calls the same
 * statusMain, so help and parsing agree.
 */
import { parseArgs } from 'node:util';
import { meshpopHome } from '@meshpop/vault/light';
import { Pool } from '@meshpop/vssh/client';
import { MpopError } from '../errors.js';
import { loadInventory } from '../inventory/inventory.js';
import { mpopPaths } from '../paths.js';
import { recordRun } from '../runs.js';
import { exitCodeOf, isKnownError, paint, parseDuration, reportError } from '../cli/format.js';
import { liveView, renderRecap } from '../cli/fanout-view.js';
import { report, type FactsReport } from './fleet.js';
import { fleetStatus, type StatusRow } from './status.js';
import { renderStatus } from './status-view.js';

/** STATUS_TIMEOUT_MS is how long status waits for a node unless --timeout says otherwise. */
export const STATUS_TIMEOUT_MS = 10_000;

/** StatusArgs is a parsed `mpop status` command line. */
export interface StatusArgs {
  target: string;
  json: boolean;
  timeoutMs: number;
  concurrency?: number;
  inventory?: string;
}

/** parseStatusArgs reads `[TARGET] [--timeout D] [--concurrency N] [--inventory FILE] [--json]`. */
export function parseStatusArgs(argv: string[]): StatusArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { timeout: { type: 'string', short: 't' }, concurrency: { type: 'string', short: 'f' }, inventory: { type: 'string', short: 'i' }, json: { type: 'boolean' } },
    });
  } catch (err) {
    throw new MpopError('MPOP_USAGE', `${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}; see mpop status --help`);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length > 1) throw new MpopError('MPOP_USAGE', `mpop status takes one target (a comma list names many: ${positionals.join(',')}), got ${positionals.length}`);
  const out: StatusArgs = { target: positionals[0] ?? 'all', json: v.json === true, timeoutMs: v.timeout ? parseDuration(v.timeout, '--timeout') : STATUS_TIMEOUT_MS };
  if (v.concurrency !== undefined) {
    if (!/^\d+$/.test(v.concurrency) || Number(v.concurrency) < 1) throw new MpopError('MPOP_USAGE', `--concurrency "${v.concurrency}" is not a positive whole number`);
    out.concurrency = Number(v.concurrency);
  }
  if (v.inventory) out.inventory = v.inventory;
  return out;
}

/**
 * runStatus reads the fleet's status for parsed arguments, prints the table and recap unless `json`, saves the
 * run's sets for @failed, and returns the exit code (0 when every node answered, 1 when any did not) and the
 * JSON report. It throws MpopError/VsshError for bad input (a target that matches nothing).
 */
export async function runStatus(a: StatusArgs, pool: Pool, signal?: AbortSignal): Promise<{ code: number; report: FactsReport<StatusRow> }> {
  const home = meshpopHome();
  const inv = await loadInventory({ home, ...(a.inventory ? { ansible: a.inventory } : {}) });
  const nodes = inv.resolve(a.target);
  const view = liveView({ quiet: a.json, stream: false, label: 'status' });
  let run;
  try {
    run = await fleetStatus(pool, nodes, { timeoutMs: a.timeoutMs, onProgress: (p) => view.onProgress(p), ...(signal ? { signal } : {}), ...(a.concurrency ? { concurrency: a.concurrency } : {}) });
  } finally {
    view.stop();
  }
  recordRun(mpopPaths(home).lastRun, 'status', a.target, run.results);
  if (!a.json) {
    const c = paint(process.stdout);
    process.stdout.write(renderStatus(run, c) + '\n');
    if (run.results.some((r) => r.outcome !== 'ok')) process.stdout.write('\n' + renderRecap(run, c) + '\n');
  }
  return { code: run.results.every((r) => r.outcome === 'ok') ? 0 : 1, report: report(a.target, run) };
}

/** statusMain runs `mpop status ARGS` without oclif and returns the exit code (errors printed once, as mpop prints them). */
export async function statusMain(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  let pool: Pool | undefined;
  try {
    const a = parseStatusArgs(argv);
    pool = new Pool({ home: meshpopHome(), retries: 1 });
    const ac = new AbortController();
    const onSignal = (): void => (ac.signal.aborted ? process.exit(130) : ac.abort());
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const { code, report: rep } = await runStatus(a, pool, ac.signal);
    if (json) process.stdout.write(JSON.stringify(rep, null, 2) + '\n');
    return code;
  } catch (err) {
    if (!isKnownError(err)) throw err;
    reportError(err, json);
    return exitCodeOf(err);
  } finally {
    await pool?.close();
  }
}
