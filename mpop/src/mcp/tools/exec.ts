import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { Pool, VsshClient } from '@meshpop/vssh';
import { errorInfo, MpopError } from '../../errors.js';
import { commandText, execFleet, type ExecValue, type RemoteCommand } from '../../exec.js';
import { fold } from '../../fanout/fold.js';
import { recap } from '../../fanout/recap.js';
import { fanout, type FanoutProgress, type FanoutResult, type Verdict } from '../../fanout/run.js';
import { mpopPaths } from '../../paths.js';
import { recordRun } from '../../runs.js';
import { defineTool, type ToolContext, type ToolResult } from '../tool.js';

/** PER_NODE_BYTES of each node's stdout and stderr go into the structured result (the folded text carries the rest). */
const PER_NODE_BYTES = 2000;

const cut = (s: string): string => (Buffer.byteLength(s) > PER_NODE_BYTES ? Buffer.from(s).subarray(0, PER_NODE_BYTES).toString('utf8') + '...' : s);

export const targetField = z.string().min(1).describe('nodes to act on: a node name, @group, a glob (web-*), a comma list, all, @failed or @changed (the previous run\'s sets), !name to leave one out');

/** runFields are the fan-out options mpop_exec and mpop_exec_script share. */
const runFields = {
  timeoutSeconds: z.number().positive().max(86_400).optional().describe('per node: kill the command after this many seconds (that node is timedout)'),
  concurrency: z.number().int().min(1).max(5000).optional().describe('nodes at once (default 500)'),
  batch: z.string().regex(/^\d+%?$/).optional().describe('rolling waves of N nodes or N% of them, e.g. "1" or "25%"'),
  stopOnError: z.boolean().optional().describe('start no new node once one has failed'),
  cwd: z.string().optional().describe('working folder on each node'),
  env: z.record(z.string(), z.string()).optional().describe('extra environment variables for the command'),
};
type RunArgs = { target: string } & { [K in keyof typeof runFields]?: z.infer<(typeof runFields)[K]> };

/** execOutput is what mpop_exec and mpop_exec_script answer: per node, folded outputs, counts. */
const execOutput = {
  target: z.string(),
  command: z.string(),
  nodes: z.array(z.object({ node: z.string(), outcome: z.string(), exitCode: z.number().nullable(), stdout: z.string(), stderr: z.string(), durationMs: z.number(), error: z.object({ code: z.string(), message: z.string() }).nullable() })),
  folded: z.array(z.object({ nodes: z.array(z.string()), label: z.string(), text: z.string() })),
  counts: z.record(z.string(), z.number()),
  durationMs: z.number(),
  stopped: z.string().optional(),
};
type ExecData = z.infer<z.ZodObject<typeof execOutput>>;

/** runExec runs `command` on the target's nodes with the shared options, reporting progress to the call. */
function runExec(pool: Pool, nodes: string[], command: RemoteCommand, args: RunArgs, ctx: ToolContext): Promise<FanoutResult<ExecValue>> {
  const timeoutMs = args.timeoutSeconds ? args.timeoutSeconds * 1000 : undefined;
  return execFleet(pool, nodes, { command, ...(timeoutMs ? { timeoutMs } : {}), ...(args.cwd ? { cwd: args.cwd } : {}), ...(args.env ? { env: args.env } : {}) }, {
    ...(args.concurrency ? { concurrency: args.concurrency } : {}),
    ...(args.batch ? { batch: args.batch } : {}),
    ...(args.stopOnError ? { stopOnError: true } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
    signal: ctx.signal,
    onProgress: (p) => ctx.progress(progressOf(p)),
  });
}

/** progressOf renders a fan-out's progress. */
const progressOf = (p: FanoutProgress) => ({
  done: p.done,
  total: p.total,
  message: `${p.done}/${p.total} done, ${p.running} running, ${p.failed} failed${p.last ? `; ${p.last.node} ${p.last.outcome}` : ''}`,
});

/** execAnswer records a run as the previous one (for @failed / @changed) and renders it: folded outputs, a recap, the failures. */
function execAnswer(home: string, tool: string, target: string, command: string, run: FanoutResult<ExecValue>): ToolResult<ExecData> {
  recordRun(mpopPaths(home).lastRun, tool, target, run.results);
  const folded = fold(run.results.filter((r) => r.value && (r.value.stdout || r.value.stderr)).map((r) => ({ node: r.node, text: r.value!.stdout + r.value!.stderr })));
  const lines = recap(run).map((l) => `${l.outcome}: ${l.count} (${l.label})`);
  const failures = run.results.filter((r) => r.outcome !== 'ok' && r.outcome !== 'skipped').map((r) => `${r.node}: ${r.error?.message ?? r.outcome}`);
  const text = [...folded.map((f) => `== ${f.label}${f.nodes.length > 1 ? ` (${f.nodes.length})` : ''} ==\n${f.text.replace(/\n$/, '')}`), lines.join('; '), ...failures, ...(run.stopped ? [run.stopped] : [])].join('\n');
  return {
    data: {
      target,
      command,
      nodes: run.results.map((r) => ({ node: r.node, outcome: r.outcome, exitCode: r.value?.exitCode ?? null, stdout: cut(r.value?.stdout ?? ''), stderr: cut(r.value?.stderr ?? ''), durationMs: Math.round(r.durationMs), error: r.error ?? null })),
      folded,
      counts: run.counts,
      durationMs: Math.round(run.durationMs),
      ...(run.stopped ? { stopped: run.stopped } : {}),
    },
    text,
    isError: run.results.some((r) => r.outcome !== 'ok'),
  };
}

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
    ...runFields,
  },
  output: execOutput,
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  long: true,
  targets: ({ target }) => target,
  confirm: ({ target, argv, shell }) => `Run \`${shell ?? (argv ? commandText({ argv }) : '')}\` on ${target}?`,
  async run(args, ctx) {
    if ((args.argv === undefined) === (args.shell === undefined)) throw new MpopError('MPOP_USAGE', 'give argv (a list) or shell (a string), exactly one of them');
    const command = args.shell !== undefined ? { shell: args.shell } : { argv: args.argv! };
    const nodes = (await ctx.inventory()).resolve(args.target);
    return execAnswer(ctx.home, 'exec', args.target, commandText(command), await runExec(ctx.pool, nodes, command, args, ctx));
  },
});

/** MAX_SCRIPT_BYTES is the largest script mpop_exec_script uploads (a bigger one is a deploy). */
const MAX_SCRIPT_BYTES = 1024 * 1024;
/** CLEANUP_TIMEOUT_MS bounds the removal of a node's script folder. */
const CLEANUP_TIMEOUT_MS = 15_000;

/** scriptHead is a script's first lines (each cut to 120 characters), for a confirmation. */
function scriptHead(script: string, lines = 6): string {
  const all = script.replace(/\n$/, '').split('\n');
  return all.slice(0, lines).map((l) => `  ${l.length > 120 ? l.slice(0, 120) + '...' : l}`).join('\n') + (all.length > lines ? `\n  ... (${all.length - lines} more lines)` : '');
}

/** scriptLabel says what ran, without the script itself: interpreter, size, lines. */
const scriptLabel = (script: string, interpreter: string | undefined): string =>
  `${interpreter ?? (/^#!(.*)/.exec(script)?.[1]?.trim() || 'shebang')} <script: ${Buffer.byteLength(script)} bytes, ${script.replace(/\n$/, '').split('\n').length} lines>`;

/** Carried is an error that keeps the code of the node's outcome (unreachable, cancelled...) for the outer fan-out to classify. */
class Carried extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** ScriptRun is where a script goes on a node and how it is run there. */
interface ScriptRun {
  local: string;
  interpreter?: string;
  args: string[];
}

/**
 * scriptOn runs the script on one node as mpop_exec runs a command (execFleet, the same per-node timeout and
 * outcomes): first it makes a folder of its own, /tmp/mpop-script-<random> (mkdir -m 700 fails rather than
 * reuse anything there), and puts the script in it as a 0700 file over vssh (SHA-256 checked); after the
 * run, whatever happened (failure, timeout, cancellation), it removes the folder. Each node gets its own
 * folder name, so nodes that share a filesystem (loopback daemons, a lab's namespaces) do not collide.
 */
async function scriptOn(pool: Pool, node: string, client: VsshClient, signal: AbortSignal, s: ScriptRun, args: RunArgs, leftovers: string[]): Promise<ExecValue> {
  const dir = `/tmp/mpop-script-${randomBytes(9).toString('hex')}`;
  const remove = async (): Promise<void> => {
    // Not tied to the signal: a cancelled run is cleaned up too.
    const rm = await client.exec({ argv: ['rm', '-rf', '--', dir] }, { timeoutMs: CLEANUP_TIMEOUT_MS }).catch((err: unknown) => errorInfo(err).message);
    if (typeof rm === 'string' || rm.exitCode !== 0) leftovers.push(`${node}: ${dir} was not removed (${typeof rm === 'string' ? rm : rm.stderr.toString('utf8').trim() || `rm exited ${rm.exitCode}`})`);
  };
  let mk;
  try {
    mk = await client.exec({ argv: ['mkdir', '-m', '700', dir] }, { timeoutMs: CLEANUP_TIMEOUT_MS, signal });
  } catch (err) {
    if (signal.aborted) await remove(); // cancelled while mkdir ran: it may have made the folder
    throw err;
  }
  if (mk.exitCode !== 0) throw new MpopError('MPOP_REMOTE', `the script was not uploaded: cannot make ${dir}: ${mk.stderr.toString('utf8').trim() || `mkdir exited ${mk.exitCode}`}`);
  try {
    try {
      await client.put(s.local, `${dir}/script`);
    } catch (err) {
      const e = errorInfo(err);
      throw new Carried(e.code, `the script was not uploaded: ${e.message}`);
    }
    const command: RemoteCommand = { argv: [...(s.interpreter ? [s.interpreter] : []), `${dir}/script`, ...s.args] };
    const timeoutMs = args.timeoutSeconds ? args.timeoutSeconds * 1000 : undefined;
    const run = await execFleet(pool, [node], { command, ...(timeoutMs ? { timeoutMs } : {}), ...(args.cwd ? { cwd: args.cwd } : {}), ...(args.env ? { env: args.env } : {}) }, { signal, ...(timeoutMs ? { timeoutMs } : {}) });
    const r = run.results[0]!;
    if (r.value && r.outcome !== 'unreachable' && r.outcome !== 'cancelled' && r.outcome !== 'skipped') {
      verdicts.set(r.value, { outcome: r.outcome, changed: r.changed, ...(r.error ? { error: r.error } : {}) });
      return r.value;
    }
    throw new Carried(r.error?.code ?? 'MPOP_REMOTE', r.error?.message ?? r.outcome);
  } finally {
    await remove();
  }
}

/** verdicts keep execFleet's own judgement of each node's run, for the fan-out around scriptOn to repeat (not re-derive). */
const verdicts = new WeakMap<ExecValue, Verdict>();

/** mpop_exec_script uploads a script to every node of a target, runs it there, and removes it. */
export const execScript = defineTool({
  name: 'mpop_exec_script',
  title: 'Run a script on nodes',
  description:
    'Runs a script (its text) on every node of the target: uploaded over vssh to a private folder (/tmp/mpop-script-*, mode 0700, the file 0700), run with the interpreter (sh, bash or python3) or by its own #! line, and removed afterwards whatever happens (failure, timeout, cancellation). The answer is mpop_exec\'s: per node its outcome, exit code and output, identical outputs folded. Use it for anything longer than a one-liner; arguments go in args. The script can change the node: it is destructive and needs confirmation. A node whose /tmp is mounted noexec needs an interpreter rather than a #! line.',
  toolset: 'exec',
  input: {
    target: targetField,
    script: z.string().min(1).max(MAX_SCRIPT_BYTES).describe('the script\'s text, e.g. "#!/bin/sh\\nset -e\\ndf -h /\\n"; without interpreter it must start with a #! line'),
    interpreter: z.enum(['sh', 'bash', 'python3']).optional().describe('run the script with this interpreter (found on the node\'s PATH); default: its #! line'),
    args: z.array(z.string()).optional().describe('arguments given to the script ($1... / sys.argv[1:])'),
    ...runFields,
  },
  output: execOutput,
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  long: true,
  targets: ({ target }) => target,
  confirm: ({ target, script, interpreter }) => `Run this script (${Buffer.byteLength(script)} bytes, ${interpreter ? `with ${interpreter}` : 'by its #! line'}) on ${target}?\n${scriptHead(script)}`,
  async run(args, ctx) {
    if (Buffer.byteLength(args.script) > MAX_SCRIPT_BYTES) throw new MpopError('MPOP_USAGE', `the script is ${Buffer.byteLength(args.script)} bytes; at most ${MAX_SCRIPT_BYTES} (ship bigger things with mpop_deploy or vssh_put)`);
    if (!args.interpreter && !args.script.startsWith('#!')) throw new MpopError('MPOP_USAGE', 'the script has no #! line: give interpreter ("sh", "bash" or "python3"), or start the script with one (#!/bin/sh)');
    const nodes = (await ctx.inventory()).resolve(args.target);
    const local = mkdtempSync(join(tmpdir(), 'mpop-script-'));
    const leftovers: string[] = [];
    let run: FanoutResult<ExecValue>;
    try {
      writeFileSync(join(local, 'script'), args.script, { mode: 0o700 });
      const s: ScriptRun = { local: join(local, 'script'), ...(args.interpreter ? { interpreter: args.interpreter } : {}), args: args.args ?? [] };
      run = await fanout<ExecValue>(ctx.pool, nodes, ({ node, client, signal }) => scriptOn(ctx.pool, node, client, signal, s, args, leftovers), {
        ...(args.concurrency ? { concurrency: args.concurrency } : {}),
        ...(args.batch ? { batch: args.batch } : {}),
        ...(args.stopOnError ? { stopOnError: true } : {}),
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(progressOf(p)),
        judge: (v) => verdicts.get(v) ?? { outcome: 'failed', error: { code: 'MPOP_INTERNAL', message: 'no verdict for this run' } },
      });
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
    const answer = execAnswer(ctx.home, 'exec', args.target, scriptLabel(args.script, args.interpreter), run);
    if (leftovers.length) answer.text += `\n${leftovers.join('\n')}`;
    return answer;
  },
});
