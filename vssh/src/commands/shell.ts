import { Args, Flags } from '@oclif/core';
import { meshpopHome } from '@meshpop/vault/light';
import { VsshCommand } from '../cli/base.js';
import { Channel } from '../protocol/conn.js';
import { Pool } from '../client/pool.js';

export default class Shell extends VsshCommand {
  static override summary = 'Open an interactive shell on a node, on a real terminal (also: `vssh NODE`).';
  static override examples = ['<%= config.bin %> g2', '<%= config.bin %> shell g2', '<%= config.bin %> shell g2 --command htop'];
  static override enableJsonFlag = false;
  static override args = { node: Args.string({ required: true, description: 'node name' }) };
  static override flags = { command: Flags.string({ description: 'run this on the terminal instead of a login shell' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Shell);
    const pool = new Pool({ home: meshpopHome() });
    const client = await pool.client(args.node);
    const out = process.stdout;
    const call = await client.call('shell', { cols: out.columns ?? 80, rows: out.rows ?? 24, term: process.env.TERM ?? 'xterm-256color', command: flags.command });
    const tty = process.stdin.isTTY === true;
    if (tty) process.stdin.setRawMode(true);
    const onResize = (): void => call.stream.msg({ resize: { cols: out.columns, rows: out.rows } });
    out.on('resize', onResize);
    const keys = (async () => {
      for await (const chunk of process.stdin as AsyncIterable<Buffer>) await call.stream.write(Channel.OUT, chunk);
      call.stream.end();
    })().catch(() => {});
    let code = 0;
    try {
      for (let item = await call.next(); item; item = await call.next()) if (item.kind === 'data') out.write(item.bytes);
      const r = await call.result();
      code = typeof r.exitCode === 'number' ? r.exitCode : 0;
    } finally {
      if (tty) process.stdin.setRawMode(false);
      out.off('resize', onResize);
      process.stdin.destroy();
      void keys;
      await pool.close();
    }
    this.exit(code);
  }
}
