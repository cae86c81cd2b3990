import { z } from 'zod';
import { commandText, execFleet } from '../../exec.js';
import { fold } from '../../fanout/fold.js';
import { recap } from '../../fanout/recap.js';
import { mpopPaths } from '../../paths.js';
import { recordRun } from '../../runs.js';
import { defineTool } from '../tool.js';

/** PER_NODE_BYTES of each node's stdout and stderr go into the structured result (the folded text carries the rest). */
const PER_NODE_BYTES = 2000;

const cut = (s: string): string => (Buffer.byteLength(s) > PER_NODE_BYTES ? Buffer.from(s).subarray(0, PER_NODE_BYTES).toString('utf8') + '...' : s);

export const targetField = z.string().min(1).describe('nodes to act on: a node name, @group, a glob (web-*), a comma list, all, @failed or @changed (the previous run\'s sets), !name to leave one out');

/** mpop_exec runs a command across nodes: one outcome per node, identical outputs folded. */
export const exec = defineTool({
  name: 'mpop_exec',
  title: 'Run a command on nodes',
  description:
    'Runs a command on every node of the target in parallel over vssh and returns, per node, its outcome (ok / failed / unreachable / timedout / cancelled / skipped), exit code and output; identical outputs are folded into one block headed by the nodes that gave them. Give argv (no shell) or shell (a /bin/sh -c string). A node that is down or slow is its own outcome; the others go on. Long runs send progress and, past the server\'s deadline, return a job id (mpop_job_status / mpop_job_output). The command can change the node: it is treated as destructive and needs confirmation.',
  toolset: 'core',
  input: {
    target: targetField,
    argv: z.array(z.string()).min(1).optional().describe('the command and its arguments, run without a shell, e.g. ["systemctl", "is-active", "nginx"]'),
    shell: z.string().min(1).optional().describe('a shell string run with /bin/sh -c, e.g. "df -h / | tail -1"; give argv or shell, not both'),
    timeoutSeconds: z.number().positive().max(86_400).optional().describe('per node: kill the command after this many seconds (that node is timedout)'),
    concurrency: z.number().int().min(1).max(5000).optional().describe('nodes at once (default 500)'),
    batch: z.string().regex(/^\d+%?$/).optional().describe('rolling waves of N nodes or N% of them, e.g. "1" or "25%"'),
    stopOnError: z.boolean().optional().describe('start no new node once one has failed'),
    cwd: z.string().optional().describe('working folder on each node'),
    env: z.record(z.string(), z.string()).optional().describe('extra environment variables for the command'),
  },
  output: {
    target: z.string(),
    command: z.string(),
    nodes: z.array(z.object({ node: z.string(), outcome: z.string(), exitCode: z.number().nullable(), stdout: z.string(), stderr: z.string(), durationMs: z.number(), error: z.object({ code: z.string(), message: z.string() }).nullable() })),
    folded: z.array(z.object({ nodes: z.array(z.string()), label: z.string(), text: z.string() })),
    counts: z.record(z.string(), z.number()),
    durationMs: z.number(),
    stopped: z.string().optional(),
  },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  long: true,
  targets: ({ target }) => target,
  confirm: ({ target, argv, shell }) => `Run \`${shell ?? (argv ? commandText({ argv }) : '')}\` on ${target}?`,
  async run(args, ctx) {
    if ((args.argv === undefined) === (args.shell === undefined)) throw new (await import('../../errors.js')).MpopError('MPOP_USAGE', 'give argv (a list) or shell (a string), exactly one of them');
    const command = args.shell !== undefined ? { shell: args.shell } : { argv: args.argv! };
    const inv = await ctx.inventory();
    const nodes = inv.resolve(args.target);
    const run = await execFleet(ctx.pool, nodes, { command, ...(args.timeoutSeconds ? { timeoutMs: args.timeoutSeconds * 1000 } : {}), ...(args.cwd ? { cwd: args.cwd } : {}), ...(args.env ? { env: args.env } : {}) }, {
      ...(args.concurrency ? { concurrency: args.concurrency } : {}),
      ...(args.batch ? { batch: args.batch } : {}),
      ...(args.stopOnError ? { stopOnError: true } : {}),
      ...(args.timeoutSeconds ? { timeoutMs: args.timeoutSeconds * 1000 } : {}),
      signal: ctx.signal,
      onProgress: (p) => ctx.progress({ done: p.done, total: p.total, message: `${p.done}/${p.total} done, ${p.running} running, ${p.failed} failed${p.last ? `; ${p.last.node} ${p.last.outcome}` : ''}` }),
    });
    recordRun(mpopPaths(ctx.home).lastRun, 'exec', args.target, run.results);
    const folded = fold(run.results.filter((r) => r.value && (r.value.stdout || r.value.stderr)).map((r) => ({ node: r.node, text: r.value!.stdout + r.value!.stderr })));
    const lines = recap(run).map((l) => `${l.outcome}: ${l.count} (${l.label})`);
    const failures = run.results.filter((r) => r.outcome !== 'ok' && r.outcome !== 'skipped').map((r) => `${r.node}: ${r.error?.message ?? r.outcome}`);
    const text = [...folded.map((f) => `== ${f.label}${f.nodes.length > 1 ? ` (${f.nodes.length})` : ''} ==\n${f.text.replace(/\n$/, '')}`), lines.join('; '), ...failures, ...(run.stopped ? [run.stopped] : [])].join('\n');
    return {
      data: {
        target: args.target,
        command: commandText(command),
        nodes: run.results.map((r) => ({ node: r.node, outcome: r.outcome, exitCode: r.value?.exitCode ?? null, stdout: cut(r.value?.stdout ?? ''), stderr: cut(r.value?.stderr ?? ''), durationMs: Math.round(r.durationMs), error: r.error ?? null })),
        folded,
        counts: run.counts,
        durationMs: Math.round(run.durationMs),
        ...(run.stopped ? { stopped: run.stopped } : {}),
      },
      text,
      isError: run.results.some((r) => r.outcome !== 'ok'),
    };
  },
});
