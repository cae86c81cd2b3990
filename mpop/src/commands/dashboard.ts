import { Flags } from '@oclif/core';
import { MpopCommand, parseDuration } from '../cli/base.js';
import { checkBind, isLoopback, waitForSignal } from '../dashboard/cli.js';
import { Collector } from '../dashboard/collector.js';
import { dashboardKeys } from '../dashboard/keys.js';
import { startDashboard } from '../dashboard/server.js';
import { DEFAULT_INTERVAL_MS } from '../dashboard/view.js';

export default class Dashboard extends MpopCommand {
  static override summary = 'Serve the fleet dashboard: a live table of every node, node pages with trend plots, the mesh graph, alerts and heal results.';
  static override description =
    'Reads every node every --interval (one vssh sysinfo, ping and network counters each), and serves the page on ' +
    '--bind:--port (default 127.0.0.1:8790). It prints a login link once: the link works once within 15 minutes and ' +
    'leaves an HttpOnly, SameSite=Strict session cookie signed with a key kept in the vault (mpop/dashboard-key); run ' +
    'the command again for a new link. Read-only unless --allow-actions, which adds restart buttons for services and ' +
    'heal fixes, each confirmed on the page and written to $MESHPOP_HOME/mpop/dashboard-audit.jsonl. The same server ' +
    'answers /metrics (Prometheus) to the page\'s session or to Authorization: Bearer with the vault\'s mpop/metrics-token.';
  static override examples = ['<%= config.bin %> dashboard', '<%= config.bin %> dashboard --bind 10.99.0.1 --port 8790', '<%= config.bin %> dashboard --interval 10s --allow-actions'];
  static override flags = {
    port: Flags.integer({ char: 'p', description: 'TCP port (0: any free one)', default: 8790 }),
    bind: Flags.string({ description: 'the address to listen on: loopback (default) or this node\'s mesh address', default: '127.0.0.1' }),
    interval: Flags.string({ description: 'read the fleet this often (a reading older than this is marked stale)', default: `${DEFAULT_INTERVAL_MS / 1000}s` }),
    'allow-actions': Flags.boolean({ description: 'allow restarting services and running heal fixes from the page (each confirmed and audited)' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<{ url: string; login: string; stoppedBy: string }> {
    const { flags } = await this.parse(Dashboard);
    checkBind(flags.bind, flags.port);
    const intervalMs = parseDuration(flags.interval, '--interval');
    if (intervalMs < 1000) this.usage('--interval must be 1s at least');
    const { key, metricsToken } = await dashboardKeys(this.home);
    const collector = new Collector({ home: this.home, pool: this.pool, intervalMs, ...(flags.inventory ? { ansible: flags.inventory } : {}) });
    const dash = await startDashboard({ home: this.home, pool: this.pool, collector, key, metricsToken, bind: flags.bind, port: flags.port, allowActions: flags['allow-actions'] });
    const login = dash.loginUrl();
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify({ url: dash.url, login }) + '\n');
    else {
      this.log(`mpop dashboard at ${dash.url} (${flags['allow-actions'] ? 'actions allowed, each confirmed and audited' : 'read-only'}; every ${intervalMs / 1000} s)`);
      this.log(`log in (this link works once, for 15 minutes): ${login}`);
      if (!isLoopback(flags.bind)) this.warn(`listening on ${flags.bind}: the page is plain HTTP, so bind only to an address on a private network such as the mesh (10.99.x.y)`);
    }
    const stoppedBy = await waitForSignal();
    await dash.close();
    return { url: dash.url, login: '(used or expired)', stoppedBy };
  }
}
