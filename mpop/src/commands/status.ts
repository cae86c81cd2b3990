import { MpopCommand, parseDuration } from '../cli/base.js';
import { factFlags, targetArg } from '../facts/cli.js';
import type { FactsReport } from '../facts/fleet.js';
import type { StatusRow } from '../facts/status.js';
import { runStatus, STATUS_TIMEOUT_MS } from '../facts/status-main.js';

export default class Status extends MpopCommand {
  static override summary = 'The fleet at a glance: reachable or not (and why), load, CPU, memory, fullest disk, uptime, failed units, round trip.';
  static override description =
    'One sysinfo call and one round trip per node, all nodes at once over pooled vssh connections. A node that is down, ' +
    'refuses, or does not answer within --timeout (default 10s) is listed as such with the reason, never left out. ' +
    'Readings past their warning or critical mark are coloured on a TTY (CPU 80/95%, memory 85/95%, disk 85/95%, load ' +
    'per core 1.5/3). Exit code 1 when any node could not be read. The nodes that did not answer become @failed for ' +
    'the next command.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status @gpu', '<%= config.bin %> status all --timeout 5s --json'];
  static override args = targetArg;
  static override flags = factFlags;

  async run(): Promise<FactsReport<StatusRow>> {
    const { args, flags } = await this.parse(Status);
    // The same run as the fast path (facts/status-main.ts: bin/run.js may load it without oclif).
    const { code, report } = await runStatus(
      { target: args.target ?? 'all', json: this.jsonEnabled(), timeoutMs: flags.timeout ? parseDuration(flags.timeout, '--timeout') : STATUS_TIMEOUT_MS, ...(flags.concurrency ? { concurrency: flags.concurrency } : {}), ...(flags.inventory ? { inventory: flags.inventory } : {}) },
      this.pool,
      this.signal(),
    );
    if (code) process.exitCode = code;
    return report;
  }
}
