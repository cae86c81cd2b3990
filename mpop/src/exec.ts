import type { Pool } from '@meshpop/vssh/client';
import { fanout, type FanoutOptions, type FanoutResult } from './fanout/run.js';

/** RemoteCommand is argv (run without a shell) or a shell string (/bin/sh -c). */
export type RemoteCommand = { argv: string[] } | { shell: string };

/** ExecRequest is what to run on each node. */
export interface ExecRequest {
  command: RemoteCommand;
  env?: Record<string, string>;
  cwd?: string;
  /** per node: the node kills the command's process group past it (and the run marks the node timed out) */
  timeoutMs?: number;
  /** per node: send back at most this many bytes of output */
  maxOutputBytes?: number;
  /** bytes given to the command's stdin on every node */
  stdin?: Buffer | string;
}

/** ExecValue is what a command did on one node. */
export interface ExecValue {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  truncated: boolean;
  stdout: string;
  stderr: string;
  /** the command's own run time on the node */
  remoteMs: number;
}

/** ExecFleetOptions add live output to the fan-out options. */
export interface ExecFleetOptions extends FanoutOptions {
  /** called with each chunk as it arrives, for node-prefixed streaming */
  onOutput?: (node: string, stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/** commandText renders a command for people and logs. */
export function commandText(c: RemoteCommand): string {
  return 'shell' in c ? c.shell : c.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * execFleet runs one command on every node at once (bounded by `concurrency`, in waves with `batch`) over
 * the pool's connections. A node that exits non-zero is `failed`, one past its timeout `timedout`, one that
 * cannot be reached `unreachable`; the rest go on. Every node that ran the command to exit 0 counts as
 * changed (mpop cannot tell a read from a write, so it says what Ansible's command module says).
 */
export function execFleet(pool: Pool, nodes: string[], req: ExecRequest, opts: ExecFleetOptions = {}): Promise<FanoutResult<ExecValue>> {
  return fanout<ExecValue>(
    pool,
    nodes,
    async ({ node, client, signal }) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const r = await client.exec(req.command, {
        env: req.env,
        cwd: req.cwd,
        timeoutMs: req.timeoutMs,
        maxOutputBytes: req.maxOutputBytes,
        stdin: req.stdin,
        signal,
        onStdout: (b) => {
          out.push(b);
          opts.onOutput?.(node, 'stdout', b);
        },
        onStderr: (b) => {
          err.push(b);
          opts.onOutput?.(node, 'stderr', b);
        },
      });
      return {
        exitCode: r.exitCode,
        signal: r.signal,
        timedOut: r.timedOut,
        truncated: r.truncated,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        remoteMs: r.durationMs,
      };
    },
    {
      ...opts,
      judge: (v) => {
        if (v.timedOut) return { outcome: 'timedout', error: { code: 'MPOP_TIMEOUT', message: `the command was killed after its timeout${req.timeoutMs ? ` of ${Math.round(req.timeoutMs / 1000)} s` : ''}` } };
        if (v.exitCode === 0) return { outcome: 'ok', changed: true };
        const how = v.signal ? `was killed by ${v.signal}` : `exited ${v.exitCode}`;
        return { outcome: 'failed', error: { code: 'MPOP_REMOTE', message: `the command ${how}` } };
      },
    },
  );
}
