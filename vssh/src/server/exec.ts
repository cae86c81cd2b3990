import { spawn } from 'node:child_process';
import { createHash, Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { VsshError } from '../errors.js';
import { Channel } from '../protocol/conn.js';
import { bool, optEnv, optInt, optStr, optStrings } from '../protocol/args.js';
import type { RequestContext } from './daemon.js';

/** DEFAULT_OUTPUT_CAP is how much stdout + stderr an exec sends back unless asked otherwise: 64 MiB. */
export const DEFAULT_OUTPUT_CAP = 64 * 1024 * 1024;
/** KILL_GRACE_MS is how long a process group has between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** ExecResult is the signed answer to an exec. */
export interface ExecResult extends Record<string, unknown> {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** the timeout applied, in ms (the request's, else the policy's maxTimeoutMs); null when none */
  timeoutMs: number | null;
  cancelled: boolean;
  truncated: boolean;
  stdoutBytes: number;
  stderrBytes: number;
  /** SHA-256 of the stdout and stderr bytes sent, so the client knows the output is the node's */
  stdoutSha256: string;
  stderrSha256: string;
  durationMs: number;
}

/**
 * execHandler runs a command (argv without a shell, or a shell string) in its own process group and
 * streams its output as it comes. A timeout, a cancel from the client, a lost connection or the daemon
 * stopping kill the whole group (SIGTERM, then SIGKILL after KILL_GRACE_MS). Output past the cap is
 * drained but not sent, and the reply says `truncated`.
 */
export async function execHandler(ctx: RequestContext): Promise<ExecResult> {
  const { args, stream, policy } = ctx;
  const argv = optStrings(args, 'argv', 65_536);
  const shell = optStr(args, 'shell');
  if ((argv === undefined) === (shell === undefined)) throw new VsshError('VSSH_BAD_INPUT', 'exec needs either argv (a command and its arguments) or shell (a shell string), not both');
  if (argv && argv.length === 0) throw new VsshError('VSSH_BAD_INPUT', 'argv is empty: give the command to run');
  const env = optEnv(args, 'env');
  policy.checkExec({ argv, shell, env });
  const timeoutMs = policy.clampTimeout(optInt(args, 'timeoutMs', 7 * 24 * 3600_000));
  const cap = optInt(args, 'maxOutputBytes') ?? DEFAULT_OUTPUT_CAP;
  const withStdin = bool(args, 'stdin');
  const cwdArg = optStr(args, 'cwd');
  const cwd = cwdArg ? await policy.checkPath(cwdArg, 'read') : undefined;

  const started = performance.now();
  const [file, fileArgs] = argv ? [argv[0]!, argv.slice(1)] : ['/bin/sh', ['-c', shell!]];
  const child = spawn(file, fileArgs, {
    cwd,
    env: { ...childEnv(), ...env },
    detached: true, // its own process group, so a kill reaches everything it started
    stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  try {
    await spawned;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (cwd) throw new VsshError('VSSH_NOT_FOUND', `cannot run ${file} in ${cwd}: the command or the folder does not exist on the node.`);
      throw new VsshError('VSSH_NOT_FOUND', `command not found on the node: ${file}`);
    }
    if (code === 'EACCES') throw new VsshError('VSSH_IO', `permission denied running ${file} on the node.`);
    throw new VsshError('VSSH_IO', `could not start ${file} on the node (${code ?? String(err)})`);
  }

  let timedOut = false;
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig); // the whole group, whether or not its leader is still there
    } catch {
      /* nothing left in the group */
    }
  };
  const killGroup = (): void => {
    if (killTimer) return;
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const timeout = timeoutMs ? setTimeout(() => ((timedOut = true), killGroup()), timeoutMs) : undefined;
  const onAbort = (): void => {
    cancelled = true;
    killGroup();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  let sent = 0;
  let truncated = false;
  const pump = async (from: Readable, channel: number, hash: Hash): Promise<number> => {
    let bytes = 0;
    try {
      for await (const chunk of from as AsyncIterable<Buffer>) {
        if (ctx.signal.aborted) continue; // keep draining so the process is not blocked on a full pipe
        let part = chunk;
        if (sent + part.length > cap) {
          part = chunk.subarray(0, Math.max(0, cap - sent));
          truncated = true;
        }
        if (part.length === 0) continue;
        sent += part.length;
        bytes += part.length;
        hash.update(part);
        try {
          await stream.write(channel, part);
        } catch {
          /* the stream is gone: the abort handler kills the process */
        }
      }
    } catch {
      /* the pipe was cut after the process exited */
    }
    return bytes;
  };
  const outHash = createHash('sha256');
  const errHash = createHash('sha256');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const pumps = Promise.all([pump(child.stdout!, Channel.OUT, outHash), pump(child.stderr!, Channel.ERR, errHash)]);
  if (withStdin) void feedStdin(ctx, child.stdin!);

  const { code, signal } = await exited;
  // Output still in the pipes is read to the end; a daemonized grandchild that keeps them open is
  // given a moment and then cut off, so one stray process cannot hold the request forever.
  const grace = setTimeout(() => {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }, 2000);
  const [stdoutBytes, stderrBytes] = await pumps;
  clearTimeout(grace);
  clearTimeout(timeout);
  if (killTimer) {
    // Timed out or cancelled: what is left of the group (a child that ignored SIGTERM) goes now.
    clearTimeout(killTimer);
    signalGroup('SIGKILL');
  }
  ctx.signal.removeEventListener('abort', onAbort);
  if (cancelled && !timedOut) throw new VsshError('VSSH_CANCELLED', 'the command was cancelled; its process group was killed');
  return {
    exitCode: code,
    signal,
    timedOut,
    timeoutMs: timeoutMs ?? null,
    cancelled,
    truncated,
    stdoutBytes,
    stderrBytes,
    stdoutSha256: outHash.digest('hex'),
    stderrSha256: errHash.digest('hex'),
    durationMs: Math.round(performance.now() - started),
  };
}

/** childEnv is the daemon's environment minus what only the daemon should know (how to open its vault). */
export function childEnv(): NodeJS.ProcessEnv {
  const { SV_PASSWORD_FILE: _p, SV_KEY_FILE: _k, ...rest } = process.env;
  return rest;
}

/** drainOrClose waits until a writable drains, closes or fails (a bare 'drain' wait can last forever). */
export async function drainOrClose(w: NodeJS.WritableStream): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
  });
}

/** feedStdin copies the client's DATA into the process's stdin, honouring its backpressure. */
async function feedStdin(ctx: RequestContext, stdin: NodeJS.WritableStream): Promise<undefined> {
  stdin.on('error', () => {}); // the process may exit without reading everything
  try {
    for (;;) {
      const item = await ctx.stream.read();
      if (!item || item.kind === 'end') break;
      if (item.kind !== 'data') continue;
      if ((stdin as NodeJS.WritableStream & { destroyed?: boolean }).destroyed) break;
      if (!stdin.write(item.bytes)) await drainOrClose(stdin);
    }
  } catch {
    /* cancelled or connection lost */
  }
  stdin.end();
  return undefined;
}
