import { z } from 'zod';
import type { Pool } from '@meshpop/vssh';
import { fold } from '../../fanout/fold.js';
import { recap } from '../../fanout/recap.js';
import type { FanoutOptions, FanoutResult } from '../../fanout/run.js';
import { READ, type Annotations, type ToolContext, type ToolDef, type Toolset, defineTool } from '../tool.js';
import { targetField } from './exec.js';

/** nodeResult is the per-node part of a fan-out tool's output, around that tool's own value schema. */
export const nodeResult = <V extends z.ZodType>(value: V) =>
  z.object({
    node: z.string(),
    outcome: z.enum(['ok', 'failed', 'unreachable', 'timedout', 'skipped', 'cancelled']),
    value: value.optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    durationMs: z.number(),
  });

/** absentSchema is a subject a node does not have ("no NVIDIA GPU on n1 (...)"). */
export const absentSchema = z.object({ present: z.literal(false), reason: z.string() });

/** FleetToolSpec describes a read over a target's nodes: the library call, its value's schema, and a one-line rendering per node. */
export interface FleetToolSpec<I extends z.ZodRawShape, V extends z.ZodType> {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  input?: I;
  value: V;
  annotations?: Annotations;
  /** whether `target` may be left out (then it is all) */
  defaultAll?: boolean;
  gather(pool: Pool, nodes: string[], args: z.infer<z.ZodObject<I>>, opts: FanoutOptions): Promise<FanoutResult<z.infer<V>>>;
  render(value: z.infer<V>): string;
}

/**
 * fleetTool makes a tool from a fan-out read: target resolution, per-node timeout, progress, per-node
 * outcomes, and a text where identical renderings are folded (as mpop_exec does).
 */
export function fleetTool<I extends z.ZodRawShape, V extends z.ZodType>(spec: FleetToolSpec<I, V>): ToolDef {
  const input = {
    target: spec.defaultAll ? targetField.optional().describe('nodes to read (default all): a node, @group, glob, comma list, all, @failed or @changed') : targetField,
    timeoutSeconds: z.number().positive().max(3600).optional().describe('per node: give up on a node after this many seconds'),
    ...(spec.input ?? ({} as I)),
  };
  return defineTool({
    name: spec.name,
    title: spec.title,
    description: spec.description,
    toolset: spec.toolset,
    input,
    output: {
      target: z.string(),
      nodes: z.array(nodeResult(spec.value)),
      counts: z.record(z.string(), z.number()),
      durationMs: z.number(),
    },
    annotations: spec.annotations ?? READ,
    long: true,
    targets: (a) => (a as { target?: string }).target ?? 'all',
    async run(args, ctx: ToolContext) {
      const a = args as { target?: string; timeoutSeconds?: number } & z.infer<z.ZodObject<I>>;
      const target = a.target ?? 'all';
      const nodes = (await ctx.inventory()).resolve(target);
      const run = await spec.gather(ctx.pool, nodes, a, {
        signal: ctx.signal,
        ...(a.timeoutSeconds ? { timeoutMs: a.timeoutSeconds * 1000 } : {}),
        onProgress: (p) => ctx.progress({ done: p.done, total: p.total, message: `${p.done}/${p.total} nodes` }),
      });
      const rendered = run.results.map((r) => ({ node: r.node, text: r.outcome === 'ok' && r.value !== undefined ? spec.render(r.value) : `${r.outcome}: ${r.error?.message ?? ''}` }));
      const blocks = fold(rendered).map((f) => (f.text.includes('\n') ? `== ${f.label} ==\n${f.text}` : `${f.label}: ${f.text}`));
      const text = [...blocks, recap(run).map((l) => `${l.outcome}: ${l.count}`).join('; ')].join('\n');
      return {
        data: {
          target,
          nodes: run.results.map((r) => ({ node: r.node, outcome: r.outcome, ...(r.value !== undefined ? { value: r.value } : {}), ...(r.error ? { error: r.error } : {}), durationMs: Math.round(r.durationMs) })),
          counts: run.counts,
          durationMs: Math.round(run.durationMs),
        },
        text,
        isError: run.results.some((r) => r.outcome !== 'ok'),
      };
    },
  }) as unknown as ToolDef;
}
