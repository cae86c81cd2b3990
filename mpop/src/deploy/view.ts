import type { FanoutProgress, FanoutResult, NodeOutcome } from '../fanout/run.js';
import { paint, size, table, type Paint } from '../cli/format.js';
import { progress } from '../cli/progress.js';
import type { DeployStep, DeployValue } from './deploy.js';
import type { NodeReleases, RollbackValue } from './releases.js';

/** StepView is deploy's live display: the fan-out's counts and where each running node is (TTY only, after 1 s). */
export interface StepView {
  onProgress(p: FanoutProgress): void;
  onStep(node: string, step: DeployStep): void;
  stop(): void;
}

/** stepView starts the live display of a deploy (nothing when quiet: piped or --json). */
export function stepView(opts: { quiet: boolean; label: string }): StepView {
  const bar = progress(!opts.quiet && process.stderr.isTTY === true);
  const at = new Map<string, DeployStep>();
  let last: FanoutProgress | undefined;
  const draw = (): void => {
    if (!last) return;
    const running = [...at].filter(([, s]) => s !== 'done').slice(0, 4).map(([n, s]) => `${n} ${s}`);
    bar.update(`${opts.label}  ${last.done}/${last.total} done · ${last.failed} failed${last.waves > 1 ? ` · wave ${last.wave}/${last.waves}` : ''}${running.length ? ' · ' + running.join(', ') : ''}`, last.done, last.total);
  };
  return {
    onProgress(p) {
      last = p;
      if (p.last) at.delete(p.last.node);
      draw();
    },
    onStep(node, step) {
      at.set(node, step);
      draw();
    },
    stop: () => bar.stop(),
  };
}

/** crossedText says what a sync moved: "2 files, 1.2 KiB, 1 deleted" or "nothing". */
export function crossedText(v: DeployValue): string {
  const c = v.crossed;
  const parts = [];
  if (c.files) parts.push(`${c.files} file${c.files === 1 ? '' : 's'} (${size(c.bytes)})`);
  if (c.deleted) parts.push(`${c.deleted} deleted`);
  return parts.length ? parts.join(', ') : 'nothing';
}

/** deployTable renders one row per node: status, release, what crossed, the release before. */
export function deployTable(run: FanoutResult<DeployValue>, c: Paint = paint(process.stdout)): string {
  const status = (r: NodeOutcome<DeployValue>): string => {
    if (!r.value) return r.outcome === 'skipped' ? c.gray('skipped') : c.red(r.outcome);
    if (r.value.status === 'deployed') return c.green('deployed');
    if (r.value.status === 'dry-run') return c.cyan('would send');
    return c.red('rolled back');
  };
  const rows = run.results.map((r) => [c.bold(r.node), status(r), r.value?.release ?? '-', r.value ? crossedText(r.value) : '-', r.value?.previous ?? '-']);
  return table(['NODE', 'STATUS', 'RELEASE', 'CROSSED', 'PREVIOUS'], rows);
}

/** dryRunText lists, per node, each path that would be sent or deleted. */
export function dryRunText(run: FanoutResult<DeployValue>): string {
  const out: string[] = [];
  for (const r of run.results) {
    const plan = r.value?.plan;
    if (!plan) continue;
    out.push(`${r.node}:`);
    for (const s of plan.send) out.push(`  send    ${JSON.stringify(s.path).slice(1, -1)} (${size(s.size)})`);
    for (const d of plan.delete) out.push(`  delete  ${JSON.stringify(d).slice(1, -1)}`);
    if (!plan.send.length && !plan.delete.length) out.push('  nothing would change');
  }
  return out.join('\n');
}

/** releasesText renders each node's releases, newest first, the live one marked. */
export function releasesText(run: FanoutResult<NodeReleases>, c: Paint = paint(process.stdout)): string {
  const out: string[] = [];
  for (const r of run.results) {
    if (!r.value) continue;
    const v = r.value;
    if (v.kind === 'missing' && !v.releases.length) {
      out.push(`${c.bold(r.node)}: never deployed`);
      continue;
    }
    out.push(c.bold(r.node) + (v.kind === 'release-link' ? '' : c.yellow(v.kind === 'missing' ? ' (the path is missing)' : ' (the path is not a release symlink)')));
    const rows = v.releases.map((x) => ['  ' + x.id, x.time.replace('T', ' ').replace('.000Z', 'Z'), x.live ? c.green('live') : x.stale ? c.yellow('not live (removed by the next deploy)') : x.id === v.previous ? 'previous' : '']);
    if (rows.length) out.push(table(['  RELEASE', 'MADE', ''], rows));
    if (v.junk.length) out.push(c.dim(`  ${v.junk.length} leftover${v.junk.length === 1 ? '' : 's'} of an interrupted run (removed by the next deploy)`));
  }
  return out.join('\n');
}

/** rollbackTable renders one row per node: from, to. */
export function rollbackTable(run: FanoutResult<RollbackValue>, c: Paint = paint(process.stdout)): string {
  const rows = run.results.filter((r) => r.value).map((r) => [c.bold(r.node), r.value!.from, r.value!.to]);
  return rows.length ? table(['NODE', 'FROM', 'TO'], rows) : '';
}
