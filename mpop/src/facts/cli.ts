/** The shared flow of the fact commands (status, hw, gpu, temp, services, ports, ps): resolve, fan out with a live view, record, print. */
import { Args } from '@oclif/core';
import type { Pool } from '@meshpop/vssh/client';
import { fanoutFlags, MpopCommand, paint, type FanoutFlagValues, type Paint } from '../cli/base.js';
import { liveView, renderRecap } from '../cli/fanout-view.js';
import type { FanoutOptions, FanoutResult, NodeOutcome } from '../fanout/run.js';
import type { Inventory } from '../inventory/inventory.js';
import { recordRun } from '../runs.js';
import { report, type FactsReport } from './fleet.js';
import type { Absent } from './tool.js';

/** targetArg is the optional TARGET of a fact command (default all). */
export const targetArg = { target: Args.string({ description: 'a node, @group, glob, comma list, all (default), @failed or @changed' }) };

/** factFlags are the fan-out flags that make sense for reading facts (no batches or stop-on-error: reads are harmless). */
export const factFlags = { concurrency: fanoutFlags.concurrency, timeout: fanoutFlags.timeout, inventory: fanoutFlags.inventory };

/** FactsCommandContext is what a fact command hands to runFactsCommand. */
export interface FactsCommandContext {
  verb: string;
  target: string | undefined;
  json: boolean;
  inventory: (ansible?: string) => Promise<Inventory>;
  pool: Pool;
  lastRun: string;
  fanoutOptions: (flags: FanoutFlagValues) => FanoutOptions;
  signal: () => AbortSignal;
  log: (text: string) => void;
  flags: FanoutFlagValues;
}

/**
 * runFactsCommand resolves the target, runs `gather` with a progress line (TTY only), saves the run's sets
 * for @failed, prints `render`'s text (and a recap when a node was not ok) unless --json, sets exit code 1
 * when a node was not ok, and returns the JSON report.
 */
export async function runFactsCommand<T>(ctx: FactsCommandContext, gather: (nodes: string[], opts: FanoutOptions) => Promise<FanoutResult<T>>, render: (run: FanoutResult<T>, c: Paint) => string): Promise<FactsReport<T>> {
  const target = ctx.target ?? 'all';
  const inv = await ctx.inventory(ctx.flags.inventory);
  const nodes = inv.resolve(target);
  const view = liveView({ quiet: ctx.json, stream: false, label: ctx.verb });
  let run: FanoutResult<T>;
  try {
    run = await gather(nodes, { ...ctx.fanoutOptions(ctx.flags), signal: ctx.signal(), onProgress: (p) => view.onProgress(p) });
  } finally {
    view.stop();
  }
  recordRun(ctx.lastRun, ctx.verb, target, run.results);
  if (!ctx.json) {
    const c = paint(process.stdout);
    const text = render(run, c);
    if (text) ctx.log(text);
    if (run.results.some((r) => r.outcome !== 'ok')) ctx.log((text ? '\n' : '') + renderRecap(run, c));
  }
  if (run.results.some((r) => r.outcome !== 'ok')) process.exitCode = 1;
  return report(target, run);
}

/** presentOnes splits a run's ok values into the nodes that have the subject and the plain words for those that do not. */
export function presentOnes<T extends { present: true }>(run: FanoutResult<T | Absent>): { have: { node: string; value: T }[]; absent: { node: string; reason: string }[] } {
  const have: { node: string; value: T }[] = [];
  const none: { node: string; reason: string }[] = [];
  for (const r of run.results as NodeOutcome<T | Absent>[]) {
    if (r.outcome !== 'ok' || !r.value) continue;
    if (r.value.present) have.push({ node: r.node, value: r.value as T });
    else none.push({ node: r.node, reason: (r.value as Absent).reason });
  }
  return { have, absent: none };
}

/** absentLines renders the nodes without the subject, one plain line each. */
export const absentLines = (absent: { reason: string }[], c: Paint): string => absent.map((a) => c.dim(a.reason)).join('\n');

/** joinBlocks joins non-empty text blocks with a blank line. */
export const joinBlocks = (...blocks: string[]): string => blocks.filter((b) => b).join('\n\n');

/** FactsCommand is the base of the fact commands: runFacts wires runFactsCommand to the command's home, pool and flags. */
export abstract class FactsCommand extends MpopCommand {
  protected runFacts<T>(verb: string, target: string | undefined, flags: FanoutFlagValues, gather: (nodes: string[], opts: FanoutOptions) => Promise<FanoutResult<T>>, render: (run: FanoutResult<T>, c: Paint) => string): Promise<FactsReport<T>> {
    return runFactsCommand(
      { verb, target, json: this.jsonEnabled(), inventory: (a) => this.inventory(a), pool: this.pool, lastRun: this.paths.lastRun, fanoutOptions: (f) => this.fanoutOptions(f), signal: () => this.signal(), log: (t) => this.log(t), flags },
      gather,
      render,
    );
  }
}
