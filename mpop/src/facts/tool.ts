import { isVsshError, type VsshClient } from '@meshpop/vssh/client';
import { MpopError } from '../errors.js';
import { commandText } from '../exec.js';
import { duration } from '../cli/format.js';

/** ToolRun is what one tool printed on a node, and how it exited. */
export interface ToolRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
}

/** Absent says plainly why a subject is not there on a node ("no NVIDIA GPU on n1 (nvidia-smi is not installed)"). */
export interface Absent {
  present: false;
  reason: string;
}

/** absent builds an Absent. */
export const absent = (reason: string): Absent => ({ present: false, reason });

/** ToolError is a tool that ran and failed (or printed what its parser cannot read): the command, its exit code and stderr kept apart. */
export class ToolError extends MpopError {
  constructor(readonly node: string, readonly command: string, readonly exitCode: number | null, readonly stderr: string, what?: string) {
    const tail = stderr.trim().split('\n').slice(0, 5).join(' / ').slice(0, 500);
    super('MPOP_REMOTE', `\`${command}\` ${what ?? (exitCode === null ? 'was killed' : `exited ${exitCode}`)} on ${node}${tail ? `: ${tail}` : ''}`);
    this.name = 'ToolError';
  }
}

/**
 * TOOL_TIMEOUT_MS is how long a node may take over its facts unless told otherwise: past it the run gives up on
 * the node and cancels its command (which kills its process group there). No timeout is sent to the node by
 * default, since a policy's maxTimeoutMs refuses a request that asks for more than it allows.
 */
export const TOOL_TIMEOUT_MS = 30_000;
/** TOOL_OUTPUT_CAP bounds what one tool sends back (a ps of a huge machine stays well under it). */
export const TOOL_OUTPUT_CAP = 16 * 1024 * 1024;

/** ToolOptions are the signal of the node's task and an optional timeout. */
export interface ToolOptions {
  signal?: AbortSignal;
  /** sent to the node, which kills the tool past it (none by default: the node's policy maximum applies) */
  timeoutMs?: number;
  env?: Record<string, string>;
}

/**
 * runTool runs argv on the node (no shell) and returns its output, or 'missing' when the program is not
 * installed there (the daemon's VSSH_NOT_FOUND). Any exit code is returned: the caller's parser decides.
 * Output cut at the cap is an error, since a parser would read half a table as the whole.
 */
export async function runTool(client: VsshClient, argv: string[], opts: ToolOptions = {}): Promise<ToolRun | 'missing'> {
  try {
    const r = await client.exec({ argv }, { ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), maxOutputBytes: TOOL_OUTPUT_CAP, env: { LC_ALL: 'C', ...opts.env }, ...(opts.signal ? { signal: opts.signal } : {}) });
    const run = { stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), exitCode: r.exitCode, signal: r.signal };
    if (r.timedOut) throw new MpopError('MPOP_TIMEOUT', `\`${commandText({ argv })}\` did not finish on ${client.target.name} within ${r.timeoutMs === null ? 'its timeout' : duration(r.timeoutMs)} (killed there)`);
    if (r.truncated) throw new ToolError(client.target.name, commandText({ argv }), r.exitCode, '', `printed more than ${TOOL_OUTPUT_CAP} bytes`);
    return run;
  } catch (err) {
    if (isVsshError(err) && err.code === 'VSSH_NOT_FOUND') return 'missing';
    throw err;
  }
}

/** mustSucceed returns the run when it exited 0, and throws its ToolError otherwise. */
export function mustSucceed(node: string, argv: string[], run: ToolRun): ToolRun {
  if (run.exitCode !== 0) throw new ToolError(node, commandText({ argv }), run.exitCode, run.stderr);
  return run;
}

/** ParseError is output a parser cannot read: where, and the line. */
export class ParseError extends MpopError {
  constructor(readonly tool: string, readonly line: number, readonly text: string, why: string) {
    super('MPOP_REMOTE', `cannot read the output of ${tool}, line ${line}: ${why} (${JSON.stringify(text.slice(0, 120))})`);
    this.name = 'ParseError';
  }
}

/** lines splits output into its non-empty lines, each with its 1-based line number. */
export function lines(text: string): { n: number; text: string }[] {
  return text.split('\n').map((t, i) => ({ n: i + 1, text: t.replace(/\r$/, '') })).filter((l) => l.text.trim() !== '');
}
