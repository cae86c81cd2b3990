import { Args, Flags } from '@oclif/core';
import { execa } from 'execa';
import { WireCommand } from '../cli/base.js';
import { WireError } from '../errors.js';
import { readCachedPeers, peerByName } from '../node/state.js';
import { missingTool } from '../wg/run.js';
import { openLocalRegistry } from '../coordinator/local.js';
import { existsSync } from 'node:fs';

export default class Ping extends WireCommand {
  static override summary = 'Ping a node over the mesh (ICMP to its mesh address).';
  static override examples = ['<%= config.bin %> ping g2', '<%= config.bin %> ping 10.99.0.3 --count 10'];
  static override args = { node: Args.string({ description: 'node name or mesh IP', required: true }) };
  static override flags = {
    count: Flags.integer({ char: 'c', description: 'how many pings', default: 3, min: 1, max: 1000 }),
    timeout: Flags.integer({ description: 'seconds to wait for each reply', default: 2, min: 1, max: 60 }),
  };

  async run(): Promise<{ node: string; meshIp: string; sent: number; received: number; rttMs: { min: number; avg: number; max: number } | null }> {
    const { args, flags } = await this.parse(Ping);
    let meshIp: string | undefined;
    if (/^10\.99\.\d+\.\d+$/.test(args.node)) meshIp = args.node;
    else if (existsSync(this.paths.node)) meshIp = peerByName(readCachedPeers(this.paths.peers)?.reply.peers ?? [], args.node)?.meshIp;
    else if (existsSync(this.paths.registry)) {
      const r = openLocalRegistry(this.home);
      try { meshIp = r.findNode(args.node)?.meshIp; } finally { r.close(); }
    }
    if (!meshIp) throw new WireError('WIRE_NOT_FOUND', `no node named ${args.node} in the peer list; \`wire peers\` lists them.`);
    let out: string;
    try {
      out = (await execa('ping', ['-n', '-c', String(flags.count), '-W', String(flags.timeout), meshIp], { reject: false, env: { LC_ALL: 'C' } })).stdout;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missingTool('ping');
      throw err;
    }
    const counts = /(\d+) packets transmitted, (\d+) received/.exec(out);
    const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(out);
    const result = {
      node: args.node,
      meshIp,
      sent: Number(counts?.[1] ?? flags.count),
      received: Number(counts?.[2] ?? 0),
      rttMs: rtt ? { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) } : null,
    };
    this.log(result.received > 0 ? `${args.node} (${meshIp}): ${result.received}/${result.sent} replies, rtt avg ${result.rttMs?.avg} ms` : `${args.node} (${meshIp}): no reply to ${result.sent} pings`);
    if (result.received === 0) process.exitCode = 1;
    return result;
  }
}
