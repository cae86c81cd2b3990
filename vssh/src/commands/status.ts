import { Args } from '@oclif/core';
import { existsSync, readFileSync } from 'node:fs';
import { meshpopHome } from '@meshpop/vault/light';
import { VsshCommand, table } from '../cli/base.js';
import { Pool } from '../client/pool.js';
import { listNodes } from '../client/resolve.js';

/** NodeStatus is one node's line in `vssh status`. */
export interface NodeStatus {
  node: string;
  reachable: boolean;
  address: string | null;
  via: string | null;
  rttMs: number | null;
  version: string | null;
  load1: number | null;
  memUsedPercent: number | null;
  rootDiskUsedPercent: number | null;
  error: string | null;
}

export default class Status extends VsshCommand {
  static override summary = 'Show this machine\'s daemon and, for every known node (or those named), whether it answers: address, round trip, version, load, memory, disk.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status g2 g3 --json'];
  static override strict = false;
  static override args = { node: Args.string({ description: 'node names (default: every known node)' }) };

  async run(): Promise<{ daemon: { running: boolean; pid: number | null }; nodes: NodeStatus[] }> {
    const { argv } = await this.parse(Status);
    const pidText = existsSync(this.paths.servePid) ? readFileSync(this.paths.servePid, 'utf8').trim() : '';
    const pid = Number(pidText) || null;
    let running = false;
    if (pid) {
      try {
        process.kill(pid, 0);
        running = true;
      } catch {
        /* not running */
      }
    }
    const names = argv.length ? (argv as string[]) : (await listNodes(this.home)).map((n) => n.name);
    const pool = new Pool({ home: meshpopHome(), retries: 0, connectTimeoutMs: 2000 });
    const nodes = await Promise.all(names.map(async (node): Promise<NodeStatus> => {
      const base: NodeStatus = { node, reachable: false, address: null, via: null, rttMs: null, version: null, load1: null, memUsedPercent: null, rootDiskUsedPercent: null, error: null };
      try {
        const c = await pool.client(node);
        const hello = await c.hello();
        const rtt = await c.ping();
        const info = await c.sysinfo();
        const root = info.disks.find((d) => d.mount === '/');
        const mem = info.memory;
        return {
          ...base, reachable: true, address: `${c.address!.host}:${c.address!.port}`, via: c.address!.via + (c.address!.tls ? '+tls' : ''), rttMs: Math.round(rtt * 100) / 100, version: hello.version,
          load1: info.load[0] ?? null, memUsedPercent: mem ? Math.round((mem.usedBytes / mem.totalBytes) * 100) : null, rootDiskUsedPercent: root ? root.usePercent : null,
        };
      } catch (err) {
        return { ...base, error: (err as Error).message };
      }
    }));
    await pool.close();
    this.log(`daemon: ${running ? `running (pid ${pid})` : 'not running on this machine'}`);
    if (nodes.length) {
      const pct = (n: number | null): string => (n === null ? '-' : `${n}%`);
      this.log(table(['NODE', 'STATE', 'ADDRESS', 'VIA', 'RTT', 'VERSION', 'LOAD', 'MEM', 'DISK /'], nodes.map((n) => [
        n.node, n.reachable ? 'up' : 'DOWN', n.address ?? '-', n.via ?? '-', n.rttMs === null ? '-' : `${n.rttMs} ms`, n.version ?? '-', n.load1 === null ? '-' : n.load1.toFixed(2), pct(n.memUsedPercent), pct(n.rootDiskUsedPercent),
      ])));
      for (const n of nodes) if (n.error) this.logToStderr(`${n.node}: ${n.error}`);
    } else this.log('no nodes known: add them to nodes.json or join a Wire mesh');
    return { daemon: { running, pid: running ? pid : null }, nodes };
  }
}
