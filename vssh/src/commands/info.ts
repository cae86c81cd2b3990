import { Args } from '@oclif/core';
import { meshpopHome } from '@meshpop/vault/light';
import { VsshCommand, size, table } from '../cli/base.js';
import { Pool } from '../client/pool.js';
import type { SysInfo } from '../server/sysinfo.js';

export default class Info extends VsshCommand {
  static override summary = 'Show a node\'s system: CPU, memory, disks, load, uptime, kernel, GPUs, listening ports, failed systemd units.';
  static override examples = ['<%= config.bin %> info g2', '<%= config.bin %> info g2 --json'];
  static override args = { node: Args.string({ required: true, description: 'node name' }) };

  async run(): Promise<SysInfo> {
    const { args } = await this.parse(Info);
    const pool = new Pool({ home: meshpopHome() });
    try {
      const s = await (await pool.client(args.node)).sysinfo();
      this.log(`${s.hostname}  ${s.kernel}  up ${Math.round(s.uptimeS / 3600)} h  load ${s.load.map((l) => l.toFixed(2)).join(' ')}`);
      if (s.cpu) this.log(`cpu: ${s.cpu.count} x ${s.cpu.model}${s.cpu.usagePercent === null ? '' : `, ${s.cpu.usagePercent}% busy`}`);
      if (s.memory) this.log(`memory: ${size(s.memory.usedBytes)} used of ${size(s.memory.totalBytes)}`);
      if (s.disks.length) this.log(table(['MOUNT', 'FS', 'SIZE', 'USED', 'USE%'], s.disks.map((d) => [d.mount, d.fs, size(d.totalBytes), size(d.usedBytes), `${d.usePercent}%`])));
      for (const g of s.gpus) this.log(`gpu ${g.index}: ${g.name}`);
      this.log(`listening: ${s.listening.map((l) => `${l.address}:${l.port}`).join(' ') || '-'}`);
      this.log(`failed units: ${s.failedUnits === null ? 'n/a' : s.failedUnits.join(' ') || 'none'}`);
      return s;
    } finally {
      await pool.close();
    }
  }
}
