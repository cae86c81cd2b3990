/** Output and exit-code helpers shared by the oclif commands and the fast paths (no oclif here). */
import { VaultError } from '@meshpop/vault/light';
import { VsshError } from '../errors.js';

/** EXIT maps error codes to vssh's exit codes (README: "Exit codes"). */
export const EXIT: Record<string, number> = {
  VSSH_BAD_INPUT: 2,
  VSSH_UNKNOWN_NODE: 3,
  VSSH_NO_KEY: 3,
  VSSH_NOT_FOUND: 4,
  VSSH_AUTH_BAD_MAC: 5,
  VSSH_AUTH_STALE: 5,
  VSSH_AUTH_REPLAY: 5,
  VSSH_AUTH_MALFORMED: 5,
  VSSH_UNREACHABLE: 6,
  VSSH_CONNECTION_LOST: 6,
  VSSH_TLS: 6,
  VSSH_POLICY: 7,
  VSSH_INTEGRITY: 8,
  VSSH_DISK_FULL: 9,
};

/** exitCodeOf is the exit code for an error: vssh's table, 10 for the vault's, 1 otherwise. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof VsshError) return EXIT[err.code] ?? 1;
  if (err instanceof VaultError) return 10;
  return 1;
}

/** reportError prints an error once: `vssh: message` on stderr, or `{"error": {code, message}}` on stdout with --json. */
export function reportError(err: VsshError | VaultError, json: boolean): void {
  if (json) process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message } }, null, 2) + '\n');
  else process.stderr.write(`vssh: ${err.message}\n`);
}

/** splitRemote reads `node:/path`, or returns undefined for a local path. */
export function splitRemote(arg: string): { node: string; path: string } | undefined {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*):(\/.*)$/.exec(arg);
  return m ? { node: m[1]!, path: m[2]! } : undefined;
}

/** table renders rows as aligned columns under a header. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** size renders a byte count for people. */
export function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}

/** duration renders milliseconds for people: "300 ms", "5 s", "1.5 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`;
  return `${Number((ms / 60_000).toFixed(1))} min`;
}

/**
 * progress returns a byte counter that draws "sent 1.2 GiB, 480 MiB/s" on stderr when it is a terminal
 * and the transfer has run for more than a second; `done()` clears the line.
 */
export function progress(label: string): { add: (n: number) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  const start = performance.now();
  let bytes = 0;
  let last = 0;
  return {
    add(n) {
      bytes += n;
      const now = performance.now();
      if (!tty || now - start < 1000 || now - last < 200) return;
      last = now;
      process.stderr.write(`\r${label} ${size(bytes)}, ${size(bytes / ((now - start) / 1000))}/s   `);
    },
    done() {
      if (tty && last) process.stderr.write('\r\x1b[K');
    },
  };
}

/** parseDuration reads "30s", "5m", "2h", "1500ms" or plain seconds into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new VsshError('VSSH_BAD_INPUT', `"${text}" is not a duration (examples: 30s, 5m, 2h, 1500ms)`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']);
}
