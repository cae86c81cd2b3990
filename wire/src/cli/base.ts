import { Command, Interfaces } from '@oclif/core';
import { VaultError, meshpopHome } from '@meshpop/vault';
import { WireError } from '../errors.js';
import { wirePaths, WirePaths } from '../paths.js';

const EXIT: Record<string, number> = {
  WIRE_BAD_INPUT: 2,
  WIRE_NOT_JOINED: 3,
  WIRE_NOT_FOUND: 4,
  WIRE_BAD_TOKEN: 5,
  WIRE_TOKEN_USED: 5,
  WIRE_TOKEN_EXPIRED: 5,
  WIRE_TOKEN_NAME: 5,
  WIRE_TOKEN_REVOKED: 5,
  WIRE_UNREACHABLE: 6,
  WIRE_CERT_MISMATCH: 6,
  WIRE_MISSING_TOOL: 7,
  WIRE_NOT_COORDINATOR: 8,
  WIRE_NOT_RUNNING: 9,
  WIRE_REMOVED: 11,
  WIRE_NOT_PERMITTED: 12,
};

/**
 * WireCommand is the base of every `wire` command: --json, $MESHPOP_HOME, and errors (wire's and the
 * vault's) printed once as `wire: message` (or `{"error": {code, message}}` with --json) with an exit code.
 */
export abstract class WireCommand extends Command {
  static override enableJsonFlag = true;

  protected get home(): string {
    return meshpopHome();
  }

  protected get paths(): WirePaths {
    return wirePaths(this.home);
  }

  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    if (err instanceof WireError || err instanceof VaultError) {
      if (this.jsonEnabled()) process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message } }, null, 2) + '\n');
      else process.stderr.write(`wire: ${err.message}\n`);
      return this.exit(err instanceof WireError ? (EXIT[err.code] ?? 1) : 10);
    }
    // oclif's own refusals (an unknown flag, a missing argument, a value out of range) are usage errors:
    // exit 2, with --json as the same small {error} document (not oclif's dump of the whole parse).
    const usage = (err as { oclif?: { exit?: unknown }; code?: unknown }).oclif?.exit;
    if (typeof usage === 'number' && (err as { code?: unknown }).code !== 'EEXIT') {
      const message = err.message.replace(/\n?See more help with --help\s*$/, '').trim();
      if (this.jsonEnabled()) process.stdout.write(JSON.stringify({ error: { code: 'WIRE_BAD_INPUT', message } }, null, 2) + '\n');
      else process.stderr.write(`wire: ${message}\n(see wire ${this.id?.replace(/:/g, ' ') ?? ''} --help)\n`);
      return this.exit(usage === 1 ? 2 : usage);
    }
    return super.catch(err);
  }
}

/** iso renders epoch ms as ISO-8601, or "-" for what is no date (a row written by an older wire). */
export function iso(epochMs: number | null): string {
  const d = new Date(epochMs ?? NaN);
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString();
}

/** ago renders a past time as "12s ago", or "never". */
export function ago(epochMs: number | null, now = Date.now()): string {
  if (!epochMs) return 'never';
  const s = Math.max(0, Math.round((now - epochMs) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** table renders rows as aligned columns under a header. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
