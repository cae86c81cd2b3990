import { isVsshError, type VsshClient } from '@meshpop/vssh';

/** RemoteRun is what a command printed on a node and how it exited. */
export interface RemoteRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** REMOTE_TIMEOUT_MS bounds one command of a check or fix. */
export const REMOTE_TIMEOUT_MS = 60_000;

/** runRemote runs argv on a node (no shell) and collects its output; 'missing' when the program does not exist there. */
export async function runRemote(client: VsshClient, argv: string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RemoteRun | 'missing'> {
  try {
    const r = await client.exec({ argv }, { timeoutMs: opts.timeoutMs ?? REMOTE_TIMEOUT_MS, maxOutputBytes: 4 << 20, ...(opts.signal ? { signal: opts.signal } : {}) });
    const stdout = r.stdout.toString('utf8');
    const stderr = r.stderr.toString('utf8');
    if (r.exitCode === 127 && /not found|No such file/i.test(stderr)) return 'missing';
    return { stdout, stderr, exitCode: r.exitCode };
  } catch (err) {
    // The daemon reports a program it cannot start (ENOENT) as an error, not an exit code.
    if (isVsshError(err) && /ENOENT|not found|no such file/i.test(err.message)) return 'missing';
    throw err;
  }
}

/** lastLine is the first meaningful line of a command's stderr (for a diagnosis), capped. */
export const firstLine = (s: string): string => s.trim().split('\n')[0]?.slice(0, 300) ?? '';
