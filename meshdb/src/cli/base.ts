import { Command, Interfaces } from '@oclif/core';
import { isMeshdbError } from '../errors.js';

/** EXIT are meshdb's exit codes. */
export const EXIT = { ok: 0, partial: 1, badInput: 2, notFound: 4, unreachable: 6, corrupt: 11, chroma: 12 } as const;

const exitOf = (code: string): number =>
  code === 'MESHDB_BAD_INPUT' ? EXIT.badInput
    : code === 'MESHDB_NOT_FOUND' || code === 'MESHDB_NOT_INDEXED' || code === 'VSSH_NOT_FOUND' || code === 'VSSH_UNKNOWN_NODE' ? EXIT.notFound
      : code === 'MESHDB_UNREACHABLE' || code === 'VSSH_UNREACHABLE' || code === 'VSSH_CONNECTION_LOST' ? EXIT.unreachable
        : code === 'MESHDB_CORRUPT' ? EXIT.corrupt
          : code === 'MESHDB_CHROMA' ? EXIT.chroma
            : 1;

/** MeshdbCommand is the base of every `meshdb` command: --json, and errors printed once with an exit code. */
export abstract class MeshdbCommand extends Command {
  static override enableJsonFlag = true;

  /** color tells whether to highlight (a TTY, and NO_COLOR unset). */
  protected get color(): boolean {
    return !!process.stdout.isTTY && !process.env.NO_COLOR && !this.jsonEnabled();
  }

  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    const code = (err as { code?: string }).code;
    if (isMeshdbError(err) || (typeof code === 'string' && code.startsWith('VSSH_')) || (typeof code === 'string' && code.startsWith('VAULT_'))) {
      if (this.jsonEnabled()) process.stdout.write(JSON.stringify({ error: { code, message: err.message } }) + '\n');
      else process.stderr.write(`meshdb: ${err.message}\n`);
      return this.exit(exitOf(code!));
    }
    return super.catch(err);
  }
}

/** highlight wraps the ranges of a line in reverse video. */
export function highlight(text: string, ranges: Array<[number, number]>, on: boolean): string {
  if (!on || !ranges.length) return text;
  let out = '';
  let at = 0;
  for (const [a, b] of ranges) {
    if (a < at) continue;
    out += text.slice(at, a) + '\x1b[1;31m' + text.slice(a, b) + '\x1b[0m';
    at = b;
  }
  return out + text.slice(at);
}

/** size formats bytes. */
export function size(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do {
    n /= 1024;
    i++;
  } while (n >= 1024 && i < u.length - 1);
  return `${n.toFixed(1)} ${u[i]}`;
}

/** safe replaces control characters in a name from a node (so a hostile file name cannot drive the terminal). */
export const safe = (s: string): string => s.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
