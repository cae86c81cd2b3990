import { Args, Flags } from '@oclif/core';
import { meshpopHome } from '@meshpop/vault/light';
import { VsshCommand } from '../cli/base.js';
import { VsshError } from '../errors.js';
import { Pool } from '../client/pool.js';

export default class Tunnel extends VsshCommand {
  static override summary = 'Forward a local TCP port to a host:port reachable from a node, until stopped.';
  static override examples = ['<%= config.bin %> tunnel g2 8080:127.0.0.1:80', '<%= config.bin %> tunnel g2 5433:db.internal:5432 --bind 0.0.0.0'];
  static override enableJsonFlag = false;
  static override args = {
    node: Args.string({ required: true, description: 'node name' }),
    spec: Args.string({ required: true, description: 'LOCALPORT:HOST:PORT (HOST as the node sees it)' }),
  };
  static override flags = { bind: Flags.string({ default: '127.0.0.1', description: 'local address to listen on' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Tunnel);
    const m = /^(\d+):(.+):(\d+)$/.exec(args.spec);
    if (!m) throw new VsshError('VSSH_BAD_INPUT', `"${args.spec}" is not LOCALPORT:HOST:PORT (e.g. 8080:127.0.0.1:80)`);
    const pool = new Pool({ home: meshpopHome() });
    const client = await pool.client(args.node);
    // fails now, not at the first connection, when the node cannot be reached or its policy refuses the tunnel
    const server = await client.tunnel(Number(m[1]), m[2]!, Number(m[3]), flags.bind, {
      onError: (err) => process.stderr.write(`vssh: a connection through the tunnel was refused: ${err.message}\n`),
    });
    const addr = server.address();
    this.log(`forwarding ${flags.bind}:${typeof addr === 'object' && addr ? addr.port : m[1]} -> ${m[2]}:${m[3]} on ${args.node} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    server.close();
    await pool.close();
  }
}
