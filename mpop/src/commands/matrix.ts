import { Flags } from '@oclif/core';
import { MpopCommand, paint, parseDuration, table, fanoutFlags, type Paint } from '../cli/base.js';
import { liveView } from '../cli/fanout-view.js';
import { targetArg } from '../facts/cli.js';
import { MATRIX_CONNECT_MS, meshMatrix, type Matrix } from '../facts/matrix.js';
import { recordRun } from '../runs.js';

/** renderMatrix is a grid: one row per source, one column per destination, each cell ok with its latency or failed. */
export function renderMatrix(m: Matrix, c: Paint): string {
  const header = ['FROM \\ TO', ...m.nodes];
  const rows = m.rows.map((row) => [c.bold(row.from), ...m.nodes.map((to) => {
    if (to === row.from) return c.dim('·');
    if (row.outcome !== 'ok') return c.magenta('?');
    const cell = row.cells.find((x) => x.to === to);
    if (!cell) return c.dim('-');
    return cell.ok ? c.green(`${cell.ms} ms`) : c.red('failed');
  })]);
  const out = [table(header, rows)];
  const failures = m.rows.flatMap((r) => r.cells.filter((x) => !x.ok).map((x) => `  ${r.from} -> ${x.to}: ${x.error ?? 'failed'}`));
  const untried = m.rows.filter((r) => r.outcome !== 'ok').map((r) => `  ${r.from}: not tried from there (${r.outcome}${r.error ? `: ${r.error.message}` : ''})`);
  if (failures.length || untried.length) out.push('', ...failures, ...untried);
  out.push('', c.dim(`${m.counts.ok} paths ok, ${m.counts.failed} failed${m.counts.untried ? `, ${m.counts.untried} untried` : ''}, in ${(m.durationMs / 1000).toFixed(2)} s`));
  return out.join('\n');
}

export default class MatrixCommand extends MpopCommand {
  static override summary = 'Check every node-to-node path: from each node, a TCP connect to every other node\'s vssh address.';
  static override description =
    'Runs a small probe on each node (node\'s net.connect, or bash\'s /dev/tcp where node is not installed) that connects ' +
    'to every other node of TARGET at the address the fleet dials it on (its Wire address when it has one, else its ' +
    'first), all at once, each with --connect-timeout. Prints a grid of latency or failed; a node that cannot be reached ' +
    'has its row marked ? (untried). Exit code 1 when any path failed or could not be tried.';
  static override examples = ['<%= config.bin %> matrix', '<%= config.bin %> matrix @web --connect-timeout 1s', '<%= config.bin %> matrix --json'];
  static override args = targetArg;
  static override flags = {
    'connect-timeout': Flags.string({ description: 'per path: give up connecting after this long (default 6s: one WireGuard handshake retry)' }),
    concurrency: fanoutFlags.concurrency,
    timeout: fanoutFlags.timeout,
    inventory: fanoutFlags.inventory,
  };

  async run(): Promise<Matrix> {
    const { args, flags } = await this.parse(MatrixCommand);
    const target = args.target ?? 'all';
    const inv = await this.inventory(flags.inventory);
    const nodes = inv.nodesOf(target);
    const connectTimeoutMs = flags['connect-timeout'] ? parseDuration(flags['connect-timeout'], '--connect-timeout') : MATRIX_CONNECT_MS;
    if (connectTimeoutMs < 1) this.usage('--connect-timeout must be at least 1 ms');
    const view = liveView({ quiet: this.jsonEnabled(), stream: false, label: 'matrix' });
    let m: Matrix;
    try {
      m = await meshMatrix(this.pool, nodes, { ...this.fanoutOptions(flags), connectTimeoutMs, signal: this.signal(), onProgress: (p) => view.onProgress(p) });
    } finally {
      view.stop();
    }
    recordRun(this.paths.lastRun, 'matrix', target, m.rows.map((r) => ({ node: r.from, outcome: r.outcome !== 'ok' ? r.outcome : r.cells.every((x) => x.ok) ? 'ok' : 'failed', changed: false })));
    if (!this.jsonEnabled()) this.log(renderMatrix(m, paint(process.stdout)));
    if (m.counts.failed || m.counts.untried) process.exitCode = 1;
    return m;
  }
}
