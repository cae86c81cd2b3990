import { MpopError } from '../errors.js';
import { asRoot, commandLine, printable, quote } from './shell.js';
import type { RunResult, SshSession } from './ssh.js';

/** Privilege is how root is had on a host: logged in as root, or through passwordless sudo. */
export type Privilege = 'root' | 'sudo';

/** RunOptions: as root (through sudo when needed), with env, input and a timeout (default 120 s). */
export interface RunOptions {
  root?: boolean;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * RemoteHost runs commands on an enrolled host over its SSH session: argv words quoted for the login
 * shell, as root when asked (`sudo -n` for a user with passwordless sudo), failures as MPOP_ENROLL
 * naming the command, its exit code and the end of its stderr.
 */
export class RemoteHost {
  privilege: Privilege | undefined;

  constructor(readonly session: SshSession, readonly label: string) {}

  /** line builds the command line for argv (as root when asked). */
  line(argv: readonly string[], opts: RunOptions = {}): string {
    if (opts.root) {
      if (!this.privilege) throw new MpopError('MPOP_INTERNAL', 'root asked before the root step');
      return asRoot(argv, this.privilege, opts.env);
    }
    const vars = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${quote(v)}`);
    return [...vars, commandLine(argv)].join(' ');
  }

  /** run executes argv and returns how it ended (never throws for a non-zero exit). */
  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.session.run(this.line(argv, opts), { timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** sh runs a POSIX sh script with positional arguments ($1, $2, ...), which are never parsed by a shell. */
  sh(text: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    return this.run(['sh', '-c', text, 'sh', ...args], opts);
  }

  /** must runs argv and throws MPOP_ENROLL saying `what` failed unless it exits 0; returns its stdout. */
  async must(what: string, argv: readonly string[], opts: RunOptions = {}): Promise<string> {
    return check(what, this.label, await this.run(argv, opts));
  }

  /** mustSh is `must` for a script. */
  async mustSh(what: string, text: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<string> {
    return check(what, this.label, await this.sh(text, args, opts));
  }
}

/** check returns stdout of a command that exited 0, else throws MPOP_ENROLL with its exit code and stderr's last lines. */
export function check(what: string, label: string, r: RunResult): string {
  if (r.code === 0) return r.stdout;
  throw new MpopError('MPOP_ENROLL', `${what} failed on ${label} (exit ${r.code})${tail(r.stderr || r.stdout) ? `: ${tail(r.stderr || r.stdout)}` : ''}`);
}

/** tail is the last few non-empty lines of an output, on one line, at most 400 characters. */
export function tail(text: string, lines = 3): string {
  const t = printable(text.trim().split('\n').map((l) => l.trim()).filter(Boolean).slice(-lines).join(' | '));
  return t.length > 400 ? '...' + t.slice(-400) : t;
}
