import { Flags } from '@oclif/core';
import { table, type Paint } from '../cli/base.js';
import { absentLines, factFlags, FactsCommand, joinBlocks, presentOnes, targetArg } from '../facts/cli.js';
import { fleetPorts, type FactsReport } from '../facts/fleet.js';
import type { PortsFacts } from '../facts/ss.js';
import type { Absent } from '../facts/tool.js';
import type { FanoutResult } from '../fanout/run.js';

/** renderPorts is one row per listening socket: proto, address, port, processes. */
export function renderPorts(run: FanoutResult<PortsFacts | Absent>, c: Paint): string {
  const { have, absent } = presentOnes(run);
  const rows = have.flatMap(({ node, value }) => value.sockets.map((s) => [
    c.bold(node), s.proto, s.address, String(s.port),
    s.processes.length ? [...new Map(s.processes.map((p) => [p.pid, p])).values()].map((p) => `${p.name}[${p.pid}]`).join(', ') : c.dim('-'),
  ]));
  const notes = have.filter((h) => h.value.note).map((h) => c.yellow(h.value.note!)).join('\n');
  return joinBlocks(rows.length ? table(['NODE', 'PROTO', 'ADDRESS', 'PORT', 'PROCESS'], rows) : '', notes, absentLines(absent, c));
}

export default class Ports extends FactsCommand {
  static override summary = 'Listening TCP and bound UDP sockets on each node, with the processes that hold them (ss -Htlnup).';
  static override description =
    'Runs ss -Htlnup on every node; without ss, the daemon\'s own list from /proc/net (TCP only, no processes), and ' +
    'says so. A process is shown only when the daemon may see it (it runs as root on a node installed as a service). ' +
    '--port and --proto narrow the list.';
  static override examples = ['<%= config.bin %> ports', '<%= config.bin %> ports @web --port 443', '<%= config.bin %> ports g2 --proto udp --json'];
  static override args = targetArg;
  static override flags = {
    ...factFlags,
    port: Flags.integer({ char: 'p', description: 'only this port', min: 0, max: 65535 }),
    proto: Flags.string({ description: 'only tcp or udp', options: ['tcp', 'udp'] }),
  };

  async run(): Promise<FactsReport<PortsFacts | Absent>> {
    const { args, flags } = await this.parse(Ports);
    const keep = (f: PortsFacts | Absent): PortsFacts | Absent =>
      f.present ? { ...f, sockets: f.sockets.filter((s) => (flags.port === undefined || s.port === flags.port) && (!flags.proto || s.proto === flags.proto)) } : f;
    return this.runFacts('ports', args.target, flags, async (nodes, opts) => {
      const run = await fleetPorts(this.pool, nodes, opts);
      for (const r of run.results) if (r.value) r.value = keep(r.value);
      return run;
    }, renderPorts);
  }
}
