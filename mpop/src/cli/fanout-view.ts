import { fold } from '../fanout/fold.js';
import { recap } from '../fanout/recap.js';
import type { FanoutProgress, FanoutResult, NodeOutcome, Outcome } from '../fanout/run.js';
import { duration, paint, Paint } from './format.js';
import { progress, Progress } from './progress.js';

/** LiveView is what a fan-out shows while it runs: a progress line and, with stream, node-prefixed output. */
export interface LiveView {
  onProgress(p: FanoutProgress): void;
  onOutput(node: string, stream: 'stdout' | 'stderr', chunk: Buffer): void;
  stop(): void;
}

/** liveView starts the display of a run on a TTY (nothing when quiet: piped output or --json). */
export function liveView(opts: { quiet: boolean; stream: boolean; label: string }): LiveView {
  const c = paint(process.stdout);
  const bar: Progress = progress(!opts.quiet && process.stderr.isTTY === true);
  const partial = new Map<string, string>();
  const width = { n: 0 };
  const prefix = (node: string): string => {
    width.n = Math.max(width.n, node.length);
    return c.cyan(node.padEnd(width.n)) + ': ';
  };
  return {
    onProgress(p) {
      bar.update(`${opts.label}  ${p.done}/${p.total} done · ${p.running} running · ${p.failed} failed${p.waves > 1 ? ` · wave ${p.wave}/${p.waves}` : ''}`, p.done, p.total);
    },
    onOutput(node, stream, chunk) {
      if (!opts.stream || opts.quiet) return;
      const key = `${node}\0${stream}`;
      const text = (partial.get(key) ?? '') + chunk.toString('utf8');
      const lines = text.split('\n');
      partial.set(key, lines.pop()!);
      for (const line of lines) bar.log(prefix(node) + (stream === 'stderr' ? c.yellow(line) : line));
    },
    stop() {
      for (const [key, rest] of partial) if (rest) bar.log(prefix(key.split('\0')[0]!) + rest);
      partial.clear();
      bar.stop();
    },
  };
}

const COLOR: Record<Outcome, keyof Paint> = { ok: 'green', failed: 'red', unreachable: 'magenta', timedout: 'yellow', cancelled: 'yellow', skipped: 'gray' };
const WORD: Record<Outcome, string> = { ok: 'ok', failed: 'failed', unreachable: 'unreachable', timedout: 'timed out', cancelled: 'cancelled', skipped: 'skipped' };

/** renderFolded writes outputs folded by identical text, each block headed by the nodes that gave it (clush -b). */
export function renderFolded(outputs: { node: string; text: string }[], c: Paint = paint(process.stdout)): string {
  const blocks = fold(outputs.filter((o) => o.text !== ''));
  const out: string[] = [];
  for (const b of blocks) {
    const head = `${b.label}${b.nodes.length > 1 ? ` (${b.nodes.length})` : ''}`;
    const rule = '-'.repeat(Math.min(72, Math.max(15, head.length)));
    out.push(c.dim(rule), c.bold(c.cyan(head)), c.dim(rule), b.text.replace(/\n$/, ''));
  }
  return out.join('\n');
}

/** renderRecap writes one line per outcome (count and nodes), then failures with their reasons, then the time. */
export function renderRecap<T>(run: FanoutResult<T>, c: Paint = paint(process.stdout), detail?: (r: NodeOutcome<T>) => string | undefined): string {
  const lines = recap(run);
  const w = Math.max(...lines.map((l) => WORD[l.outcome].length));
  const out = lines.map((l) => `${c[COLOR[l.outcome]](WORD[l.outcome].padEnd(w))}  ${String(l.count).padStart(4)}  ${l.label}`);
  const bad = run.results.filter((r) => r.outcome !== 'ok' && r.outcome !== 'skipped');
  for (const r of bad.slice(0, 50)) {
    const why = detail?.(r) ?? r.error?.message ?? r.outcome;
    out.push(`  ${c[COLOR[r.outcome]](r.node)}: ${why}`);
  }
  if (bad.length > 50) out.push(`  ... and ${bad.length - 50} more (--json lists every node)`);
  if (run.stopped) out.push(c.yellow(run.stopped));
  out.push(c.dim(`${run.results.length} node${run.results.length === 1 ? '' : 's'} in ${duration(run.durationMs)}`));
  return out.join('\n');
}
