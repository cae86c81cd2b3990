import { Args, Flags } from '@oclif/core';
import { meshpopHome } from '@meshpop/vault/light';
import { VsshCommand } from '../cli/base.js';
import { Pool } from '../client/pool.js';

export default class Speed extends VsshCommand {
  static override summary = 'Measure the round trip and the throughput both ways to a node.';
  static override examples = ['<%= config.bin %> speed g2', '<%= config.bin %> speed g2 --mib 1024 --json'];
  static override args = { node: Args.string({ required: true, description: 'node name' }) };
  static override flags = { mib: Flags.integer({ default: 256, min: 1, description: 'MiB to send each way' }) };

  async run(): Promise<{ node: string; address: string; rttMs: number; upMBps: number; downMBps: number }> {
    const { args, flags } = await this.parse(Speed);
    const pool = new Pool({ home: meshpopHome() });
    try {
      const client = await pool.client(args.node);
      const r = await client.speed(flags.mib * 1024 * 1024);
      const a = client.address!;
      this.log(`${args.node} via ${a.host}:${a.port} (${a.via}${a.tls ? ', TLS' : ''}): rtt ${r.rttMs.toFixed(2)} ms, up ${r.upMBps.toFixed(0)} MB/s, down ${r.downMBps.toFixed(0)} MB/s`);
      return { node: args.node, address: `${a.host}:${a.port}`, ...r };
    } finally {
      await pool.close();
    }
  }
}
