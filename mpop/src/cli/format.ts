/** Output and exit-code helpers shared by the oclif commands and the fast path (no oclif here). */
import { VaultError } from '@meshpop/vault/light';
import { VsshError } from '@meshpop/vssh/client';
import { MpopError } from '../errors.js';

/** EXIT maps error codes to mpop's exit codes (README: "Exit codes"); 1 is "some node failed". */
export const EXIT: Record<string, number> = {
  MPOP_USAGE: 2,
  VSSH_BAD_INPUT: 2,
  MPOP_NO_MATCH: 3,
  MPOP_BAD_INVENTORY: 3,
  MPOP_NO_PREVIOUS_RUN: 3,
  VSSH_UNKNOWN_NODE: 3,
  MPOP_UNREACHABLE: 4,
  VSSH_UNREACHABLE: 4,
  VSSH_NO_KEY: 5,
  MPOP_HOST_KEY: 5,
  MPOP_TIMEOUT: 6,
  MPOP_CANCELLED: 130,
};

/** exitCodeOf is the exit code for an error: mpop's table, 10 for the vault's, 1 otherwise. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof MpopError || err instanceof VsshError) return EXIT[err.code] ?? 1;
  if (err instanceof VaultError) return 10;
  return 1;
}

/** isKnownError tells errors that carry a message meant for people (printed without a stack). */
export function isKnownError(err: unknown): err is MpopError | VsshError | VaultError {
  return err instanceof MpopError || err instanceof VsshError || err instanceof VaultError;
}

/** reportError prints an error once: `mpop: message` on stderr, or `{"error": {code, message}}` on stdout with --json. */
export function reportError(err: MpopError | VsshError | VaultError, json: boolean): void {
  if (json) process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message } }, null, 2) + '\n');
  else process.stderr.write(`mpop: ${err.message}\n`);
}

/** useColor tells whether to colour a stream: a TTY, NO_COLOR unset, TERM not dumb (FORCE_COLOR forces it). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

const SGR = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90 } as const;
/** Paint colours text when colour is on, and leaves it alone otherwise. */
export type Paint = Record<keyof typeof SGR, (s: string) => string>;

/** paint returns colour functions for a stream (identity functions when colour is off). */
export function paint(stream: NodeJS.WriteStream = process.stdout): Paint {
  const on = useColor(stream);
  return Object.fromEntries(Object.entries(SGR).map(([k, v]) => [k, (s: string) => (on && s ? `\x1b[${v}m${s}\x1b[0m` : s)])) as Paint;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
/** visibleLength is a string's width without colour codes. */
export const visibleLength = (s: string): number => s.replace(ANSI, '').length;

/** table renders rows as aligned columns under a header (colour codes do not count toward widths). */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  return all.map((r) => r.map((c, i) => (c ?? '') + ' '.repeat(Math.max(0, widths[i]! - visibleLength(c ?? '')))).join('  ').trimEnd()).join('\n');
}

/** size renders a byte count for people. */
export function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}

/** duration renders milliseconds for people: "300 ms", "5.2 s", "3 min", "2.5 h", "4 d". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`;
  if (ms < 3_600_000) return `${Number((ms / 60_000).toFixed(1))} min`;
  if (ms < 86_400_000) return `${Number((ms / 3_600_000).toFixed(1))} h`;
  return `${Number((ms / 86_400_000).toFixed(1))} d`;
}

/** parseDuration reads "30s", "5m", "2h", "1d", "1500ms" or plain seconds into milliseconds. */
export function parseDuration(text: string, flag = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h|d)?$/.exec(text.trim());
  if (!m) throw new MpopError('MPOP_USAGE', `${flag} "${text}" is not a duration (examples: 30s, 5m, 2h, 1d, 1500ms)`);
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}
