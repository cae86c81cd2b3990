import { Counter, Gauge, Registry } from 'prom-client';
import type { MeshGraph } from '../dashboard/mesh.js';
import type { FleetView, NodeRow } from '../dashboard/view.js';

/** METRIC_NAMES are the series /metrics exposes (the Grafana dashboard and the README use these names). */
export const METRIC_NAMES = [
  'mpop_node_up', 'mpop_node_last_seen_timestamp_seconds', 'mpop_node_cpu_usage_percent', 'mpop_node_cpu_cores',
  'mpop_node_load1', 'mpop_node_load5', 'mpop_node_load15',
  'mpop_node_memory_used_bytes', 'mpop_node_memory_available_bytes', 'mpop_node_memory_total_bytes',
  'mpop_node_disk_used_percent', 'mpop_node_disk_used_bytes', 'mpop_node_disk_size_bytes',
  'mpop_node_network_receive_bytes_total', 'mpop_node_network_transmit_bytes_total',
  'mpop_vssh_rtt_seconds', 'mpop_mesh_handshake_age_seconds', 'mpop_alerts_firing', 'mpop_fleet_nodes',
] as const;

/** groupLabel is a node's `group` label: its groups, sorted and comma-joined ('' when it has none). */
export const groupLabel = (n: NodeRow): string => [...n.groups].sort().join(',');

/**
 * FleetMetrics holds a prom-client registry of the fleet's gauges; update() replaces every series with a
 * FleetView (and the mesh graph, when known), text() renders the exposition format.
 */
export class FleetMetrics {
  readonly registry = new Registry();
  readonly #g: Record<string, Gauge<string>> = {};
  readonly #rx: Counter<string>;
  readonly #tx: Counter<string>;

  constructor() {
    const gauge = (name: string, help: string, labels: string[] = ['node', 'group']): Gauge<string> => (this.#g[name] = new Gauge({ name, help, labelNames: labels, registers: [this.registry] }));
    gauge('mpop_node_up', '1 when the node answered the last poll, else 0');
    gauge('mpop_node_last_seen_timestamp_seconds', 'when the node last answered (unix seconds)');
    gauge('mpop_node_cpu_usage_percent', 'CPU busy over the sysinfo window, percent of all cores');
    gauge('mpop_node_cpu_cores', 'logical CPUs');
    gauge('mpop_node_load1', 'load average over 1 minute');
    gauge('mpop_node_load5', 'load average over 5 minutes');
    gauge('mpop_node_load15', 'load average over 15 minutes');
    gauge('mpop_node_memory_used_bytes', 'memory in use (total - available)');
    gauge('mpop_node_memory_available_bytes', 'memory available (MemAvailable)');
    gauge('mpop_node_memory_total_bytes', 'memory installed');
    gauge('mpop_node_disk_used_percent', 'filesystem use, percent', ['node', 'group', 'mount']);
    gauge('mpop_node_disk_used_bytes', 'filesystem bytes used', ['node', 'group', 'mount']);
    gauge('mpop_node_disk_size_bytes', 'filesystem size', ['node', 'group', 'mount']);
    gauge('mpop_vssh_rtt_seconds', 'one vssh round trip from the controller on the open connection');
    gauge('mpop_mesh_handshake_age_seconds', 'seconds since the last WireGuard handshake of a pair, as the node sees it', ['node', 'peer', 'path']);
    gauge('mpop_alerts_firing', 'the monitor\'s firing alerts of a node, by rule', ['node', 'group', 'rule']);
    gauge('mpop_fleet_nodes', 'nodes of the fleet by state', ['state']);
    this.#rx = new Counter({ name: 'mpop_node_network_receive_bytes_total', help: 'bytes received on every interface but lo since boot', labelNames: ['node', 'group'], registers: [this.registry] });
    this.#tx = new Counter({ name: 'mpop_node_network_transmit_bytes_total', help: 'bytes sent on every interface but lo since boot', labelNames: ['node', 'group'], registers: [this.registry] });
  }

  /** update replaces every series with the view's (a node that never answered has only mpop_node_up 0). */
  update(view: FleetView, mesh?: MeshGraph): void {
    for (const g of Object.values(this.#g)) g.reset();
    this.#rx.reset();
    this.#tx.reset();
    const g = this.#g;
    const groups = new Map<string, string>();
    for (const n of view.nodes) {
      const l = { node: n.name, group: groupLabel(n) };
      groups.set(n.name, l.group);
      g.mpop_node_up!.set(l, n.online ? 1 : 0);
      const r = n.reading;
      if (!r) continue;
      g.mpop_node_last_seen_timestamp_seconds!.set(l, r.at / 1000);
      if (r.cpuPercent !== null) g.mpop_node_cpu_usage_percent!.set(l, r.cpuPercent);
      g.mpop_node_cpu_cores!.set(l, r.cores);
      g.mpop_node_load1!.set(l, r.load[0]);
      g.mpop_node_load5!.set(l, r.load[1]);
      g.mpop_node_load15!.set(l, r.load[2]);
      g.mpop_node_memory_used_bytes!.set(l, r.memory.usedBytes);
      g.mpop_node_memory_available_bytes!.set(l, r.memory.availableBytes);
      g.mpop_node_memory_total_bytes!.set(l, r.memory.totalBytes);
      for (const d of r.disks) {
        const dl = { ...l, mount: d.mount };
        g.mpop_node_disk_used_percent!.set(dl, d.usePercent);
        g.mpop_node_disk_used_bytes!.set(dl, d.usedBytes);
        g.mpop_node_disk_size_bytes!.set(dl, d.totalBytes);
      }
      if (r.net) {
        this.#rx.inc(l, r.net.rxBytes);
        this.#tx.inc(l, r.net.txBytes);
      }
      g.mpop_vssh_rtt_seconds!.set(l, r.rttMs / 1000);
    }
    const firing = new Map<string, number>();
    for (const a of view.alerts) if (a.firing) firing.set(`${a.node}\0${a.rule}`, (firing.get(`${a.node}\0${a.rule}`) ?? 0) + 1);
    for (const [key, count] of firing) {
      const [node, rule] = key.split('\0') as [string, string];
      g.mpop_alerts_firing!.set({ node, group: groups.get(node) ?? '', rule }, count);
    }
    for (const e of mesh?.edges ?? []) if (e.handshakeAgeS !== null) g.mpop_mesh_handshake_age_seconds!.set({ node: e.a, peer: e.b, path: e.path }, e.handshakeAgeS);
    g.mpop_fleet_nodes!.set({ state: 'total' }, view.counts.total);
    g.mpop_fleet_nodes!.set({ state: 'online' }, view.counts.online);
    g.mpop_fleet_nodes!.set({ state: 'stale' }, view.counts.stale);
  }

  /** text renders the exposition format (text/plain; version=0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
