import { Flags } from '@oclif/core';
import { MpopCommand, parseDuration } from '../cli/base.js';
import { checkBind, isLoopback, waitForSignal } from '../dashboard/cli.js';
import { Collector } from '../dashboard/collector.js';
import { dashboardKeys } from '../dashboard/keys.js';
import { meshGraph } from '../dashboard/mesh.js';
import { FleetMetrics } from '../metrics/fleet.js';
import { startMetricsServer } from '../metrics/server.js';

export default class Metrics extends MpopCommand {
  static override summary = 'Serve the fleet\'s metrics in the Prometheus text format (or print them once with --once).';
  static override description =
    'Reads every node every --interval (the dashboard\'s reading: sysinfo, ping, network counters; the mesh view every ' +
    'minute) and serves the last reading at GET /metrics on --bind:--port (default 127.0.0.1:9790), per node labelled ' +
    'node and group: mpop_node_up, mpop_node_cpu_usage_percent, mpop_node_load1/5/15, mpop_node_memory_*_bytes, ' +
    'mpop_node_disk_used_percent{mount}, mpop_node_network_*_bytes_total, mpop_vssh_rtt_seconds, ' +
    'mpop_mesh_handshake_age_seconds{peer}, mpop_alerts_firing{rule}. Bound to anything but loopback, it requires ' +
    'Authorization: Bearer with the vault\'s mpop/metrics-token (sv get mpop/metrics-token).';
  static override examples = ['<%= config.bin %> metrics', '<%= config.bin %> metrics --port 9790 --bind 10.99.0.1', '<%= config.bin %> metrics --once'];
  static override flags = {
    port: Flags.integer({ char: 'p', description: 'TCP port (0: any free one)', default: 9790 }),
    bind: Flags.string({ description: 'the address to listen on (default loopback)', default: '127.0.0.1' }),
    interval: Flags.string({ description: 'read the fleet this often', default: '15s' }),
    once: Flags.boolean({ description: 'read the fleet once, print the metrics and exit' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<{ url?: string; stoppedBy?: string; metrics?: string }> {
    const { flags } = await this.parse(Metrics);
    checkBind(flags.bind, flags.port);
    const intervalMs = parseDuration(flags.interval, '--interval');
    if (intervalMs < 1000) this.usage('--interval must be 1s at least');
    if (flags.once) {
      const c = new Collector({ home: this.home, pool: this.pool, intervalMs, ...(flags.inventory ? { ansible: flags.inventory } : {}) });
      const view = await c.poll();
      await c.close();
      const m = new FleetMetrics();
      m.update(view, await meshGraph(this.pool, view.nodes.filter((n) => n.online).map((n) => n.name)).catch(() => undefined));
      const text = await m.text();
      if (!this.jsonEnabled()) process.stdout.write(text);
      return { metrics: text };
    }
    const token = isLoopback(flags.bind) ? undefined : (await dashboardKeys(this.home)).metricsToken;
    const s = await startMetricsServer({ home: this.home, pool: this.pool, bind: flags.bind, port: flags.port, intervalMs, ...(token ? { token } : {}) });
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify({ url: s.url }) + '\n');
    else this.log(`mpop metrics at ${s.url}${token ? ' (Authorization: Bearer <the vault\'s mpop/metrics-token>)' : ''}; every ${intervalMs / 1000} s`);
    const stoppedBy = await waitForSignal();
    await s.close();
    return { url: s.url, stoppedBy };
  }
}
