import { fstatSync } from 'node:fs';
import { constants } from 'node:os';
import { meshpopHome } from '@meshpop/vault/light';
import { VsshError } from '../errors.js';
import { Pool } from '../client/pool.js';
import type { ExecOutcome } from '../client/client.js';
import { duration, parseDuration, reportError } from './format.js';

/**
 * `vssh exec` lives here rather than in oclif so that a one-shot command starts fast (bin/run.js calls
 * it directly); commands/exec.ts declares the same flags for help and delegates to `runExec`.
 *
 *   vssh exec NODE [flags] -- COMMAND [ARGS...]      vssh exec NODE [flags] --shell 'STRING'
 *
 * Exit code: the command's own; 124 when it timed out; 128+N when killed by signal N; 255 when vssh
 * could not run it (the message says why).
 */

/** ExecArgs is a parsed `vssh exec` command line. */
export interface ExecArgs {
  node: string;
  argv?: string[];
  shell?: string;
  timeoutMs?: number;
  env: Record<string, string>;
  cwd?: string;
  maxOutputBytes?: number;
  stdin: boolean;
  json: boolean;
}

const usage = 'usage: vssh exec NODE [--timeout 30s] [--env K=V] [--cwd DIR] [--max-output BYTES] [-n] [--json] -- COMMAND [ARGS...]   (or --shell \'STRING\')';

/** parseExecArgs reads `vssh exec`'s arguments (after the word exec), throwing VSSH_BAD_INPUT with the usage. */
export function parseExecArgs(args: string[]): ExecArgs {
  const out: ExecArgs = { node: '', env: {}, stdin: true, json: false };
  const bad = (why: string): VsshError => new VsshError('VSSH_BAD_INPUT', `${why}\n${usage}`);
  let i = 0;
  const value = (flag: string): string => {
    const v = args[++i];
    if (v === undefined) throw bad(`${flag} needs a value`);
    return v;
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => inline ?? value(flag);
    if (a === '--') {
      out.argv = args.slice(i + 1);
      break;
    } else if (flag === '--shell' || flag === '-c') out.shell = val();
    else if (flag === '--timeout' || flag === '-t') out.timeoutMs = parseDuration(val());
    else if (flag === '--env' || flag === '-e') {
      const kv = val();
      const eq = kv.indexOf('=');
      if (eq < 1) throw bad(`--env takes NAME=value, got "${kv}"`);
      out.env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (flag === '--cwd') out.cwd = val();
    else if (flag === '--max-output') out.maxOutputBytes = Number(val());
    else if (a === '-n' || a === '--no-stdin') out.stdin = false;
    else if (a === '--json') out.json = true;
    else if (a.startsWith('-')) throw bad(`unknown flag ${a}`);
    else if (!out.node) out.node = a;
    else {
      out.argv = args.slice(i); // the command starts at its first word
      break;
    }
  }
  if (!out.node) throw bad('name the node to run on');
  if (out.shell !== undefined && out.argv?.length) throw bad('give a command after -- or --shell, not both');
  if (out.shell === undefined && !out.argv?.length) throw bad('give the command to run');
  if (out.maxOutputBytes !== undefined && !(Number.isSafeInteger(out.maxOutputBytes) && out.maxOutputBytes >= 0)) throw bad('--max-output takes a number of bytes');
  if (Object.keys(out.env).length === 0) delete (out as Partial<ExecArgs>).env;
  return out;
}

/** stdinToForward is true when stdin is a pipe, file or socket (not a terminal, not /dev/null): what ssh forwards too. */
function stdinToForward(): boolean {
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}

/** exitCodeOfRun is the process exit code for a finished remote command. */
export function exitCodeOfRun(r: Pick<ExecOutcome, 'exitCode' | 'signal' | 'timedOut'>): number {
  if (r.timedOut) return 124;
  if (r.signal) return 128 + ((constants.signals as Record<string, number>)[r.signal] ?? 0);
  return r.exitCode ?? 255;
}

/** runExec runs a parsed `vssh exec`, streaming output, and returns the exit code. */
export async function runExec(a: ExecArgs): Promise<number> {
  const pool = new Pool({ home: meshpopHome() });
  const client = await pool.client(a.node);
  const forward = a.stdin && stdinToForward();
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await client.exec(a.argv ? { argv: a.argv } : { shell: a.shell! }, {
      env: a.env,
      cwd: a.cwd,
      timeoutMs: a.timeoutMs,
      maxOutputBytes: a.maxOutputBytes,
      stdin: forward ? process.stdin : undefined,
      signal: ac.signal,
      ...(a.json ? {} : { onStdout: (b: Buffer) => void process.stdout.write(b), onStderr: (b: Buffer) => void process.stderr.write(b) }),
    });
    if (a.json) {
      const { stdout, stderr, ...rest } = r;
      process.stdout.write(JSON.stringify({ node: a.node, ...rest, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') }, null, 2) + '\n');
    } else {
      if (r.truncated) process.stderr.write(`\nvssh: output truncated at ${r.stdoutBytes + r.stderrBytes} bytes (--max-output)\n`);
      if (r.timedOut) process.stderr.write(`vssh: timed out after ${duration(r.timeoutMs ?? a.timeoutMs ?? r.durationMs)} on ${a.node}; its process group was killed\n`);
    }
    return exitCodeOfRun(r);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (forward) process.stdin.destroy();
    await pool.close();
  }
}

/** execMain is the fast path's entry: parse, run, print an error the way every vssh command does. */
export async function execMain(args: string[]): Promise<number> {
  const json = args.includes('--json');
  try {
    return await runExec(parseExecArgs(args));
  } catch (err) {
    const known = err instanceof VsshError || (err as Error)?.name === 'VaultError';
    const e = known ? (err as VsshError) : new VsshError('VSSH_INTERNAL', String((err as Error)?.stack ?? err));
    reportError(e, json);
    const code = e.code;
    return code === 'VSSH_BAD_INPUT' ? 2 : code === 'VSSH_CANCELLED' ? 130 : 255;
  }
}
