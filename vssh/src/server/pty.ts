import { userInfo } from 'node:os';
import { VsshError } from '../errors.js';
import { Channel } from '../protocol/conn.js';
import { optInt, optStr } from '../protocol/args.js';
import type { RequestContext } from './daemon.js';
import { childEnv } from './exec.js';

/**
 * shellHandler runs an interactive login shell (or a given shell command) on a pseudo-terminal. The
 * client's DATA is the keyboard, `{resize: {cols, rows}}` messages resize the terminal, and the
 * terminal's output comes back on the stream. The reply carries the exit code.
 */
export async function shellHandler(ctx: RequestContext): Promise<Record<string, unknown>> {
  const command = optStr(ctx.args, 'command');
  ctx.policy.checkExec({ shell: command ?? '(interactive shell)' });
  const cols = optInt(ctx.args, 'cols', 1000) ?? 80;
  const rows = optInt(ctx.args, 'rows', 1000) ?? 24;
  const term = optStr(ctx.args, 'term') ?? 'xterm-256color';
  const { spawn } = await import('node-pty'); // native; loaded only when a terminal is asked for
  const me = userInfo();
  const shell = process.env.SHELL || (me.shell && me.shell !== '' ? me.shell : '/bin/sh');
  let pty;
  try {
    pty = spawn(shell, command ? ['-c', command] : ['-l'], { name: term, cols: cols || 80, rows: rows || 24, cwd: me.homedir, env: { ...childEnv(), TERM: term } as Record<string, string> });
  } catch (err) {
    throw new VsshError('VSSH_IO', `could not start a terminal on the node (${(err as Error).message})`);
  }
  const p = pty;
  const exited = new Promise<{ exitCode: number; signal?: number }>((resolve) => p.onExit(resolve));
  const out = p.onData((text) => {
    p.pause();
    ctx.stream.write(Channel.OUT, Buffer.from(text, 'utf8')).then(() => p.resume(), () => p.kill('SIGHUP'));
  });
  const abort = (): void => {
    p.kill('SIGHUP');
    setTimeout(() => {
      try {
        process.kill(p.pid, 'SIGKILL'); // a shell that ignores the hang-up
      } catch {
        /* gone */
      }
    }, 2000).unref();
  };
  ctx.signal.addEventListener('abort', abort, { once: true });
  void (async () => {
    try {
      for (;;) {
        const item = await ctx.stream.read();
        if (!item) break;
        if (item.kind === 'data') p.write(item.bytes); // bytes, not text: a character may span two frames
        else if (item.kind === 'msg' && typeof item.body.resize === 'object' && item.body.resize) {
          const r = item.body.resize as { cols?: unknown; rows?: unknown };
          if (Number.isInteger(r.cols) && Number.isInteger(r.rows) && (r.cols as number) > 0 && (r.rows as number) > 0) p.resize(Math.min(r.cols as number, 1000), Math.min(r.rows as number, 1000));
        } else if (item.kind === 'end') p.write('\x04');
      }
    } catch {
      /* cancelled or the connection dropped: the abort handler hangs the shell up */
    }
  })();
  const { exitCode, signal } = await exited;
  await new Promise((r) => setTimeout(r, 20)); // the terminal's last output can trail its exit
  out.dispose();
  ctx.signal.removeEventListener('abort', abort);
  return { exitCode, signal: signal || null };
}
