import { z } from 'zod';
import { readFleetView } from '../../dashboard/collector.js';
import { downsample, readHistories, type History } from '../../dashboard/history.js';
import { fullestDisk, stateOf, type FleetView, type NodeRow, type Reading } from '../../dashboard/view.js';
import { mpopPaths } from '../../paths.js';
import { DASHBOARD_APP_URI } from '../resources.js';
import { defineTool, READ } from '../tool.js';
import { targetField } from './exec.js';

/** HISTORY_NODES is how many nodes' history one mpop_dashboard result carries (the rest: call it with that node as target). */
export const HISTORY_NODES = 50;
/** HISTORY_POINTS is how many points each node's history is cut to. */
export const HISTORY_POINTS = 60;
/** PER_NODE_TIMEOUT_MS bounds each node's reading. */
const PER_NODE_TIMEOUT_MS = 5000;
/** readings are every node's last good reading in this server, so a call after another has network rates and last-seen times. */
const readings = new Map<string, Reading>();

const series = z.array(z.number().nullable());
const errorShape = z.object({ code: z.string(), message: z.string() });

const nodeRow = z.object({
  name: z.string(),
  groups: z.array(z.string()),
  roles: z.array(z.string()),
  address: z.string(),
  online: z.boolean(),
  stale: z.boolean(),
  lastSeen: z.string().nullable(),
  reading: z.record(z.string(), z.unknown()).nullable().describe('sysinfo in short: cpuPercent, load, memory, disks, net, rttMs, uptimeS, vsshVersion, levels'),
  error: errorShape.optional(),
});

const history = z.object({ node: z.string(), t: z.array(z.number()).describe('seconds since the epoch'), cpu: series, mem: series, load: series, disk: z.record(z.string(), series).describe('use % per mount') });

/** line is the text table's line for one node. */
function line(n: NodeRow): string[] {
  const r = n.reading;
  const worst = r ? fullestDisk(r.disks) : null;
  const state = stateOf(n);
  const p = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(1)}%`);
  return [n.name, state, p(r?.cpuPercent), p(r?.memory.percent), worst ? `${p(worst.usePercent)} ${worst.mount}` : '-', r ? r.load.map((x) => x.toFixed(2)).join(' ') : '-', r ? `${r.rttMs} ms` : '-', n.lastSeen ? n.lastSeen.slice(11, 19) : 'never', n.error ? n.error.message.slice(0, 80) : ''];
}

/** dashboardText renders the view for a client without apps: counts, one aligned line per node, the alerts. */
export function dashboardText(view: FleetView): string {
  const c = view.counts;
  const rows = [['NODE', 'STATE', 'CPU', 'MEM', 'DISK', 'LOAD', 'RTT', 'SEEN', 'ERROR'], ...view.nodes.map(line)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const out = [`${c.total} nodes: ${c.online} online, ${c.stale} stale, ${c.offline} offline; ${view.alerts.length} alerts firing (at ${view.generatedAt})`];
  for (const r of rows) out.push(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  for (const a of view.alerts) out.push(`alert ${a.node} ${a.rule}${a.subject ? ` ${a.subject}` : ''}: ${a.message} (since ${a.since})`);
  for (const n of view.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

/**
 * mpop_dashboard is the fleet view as an MCP App: the same FleetView the web dashboard shows (read once now)
 * and each node's monitor history, cut to a few dozen points. Hosts that render apps show it with
 * ui://mpop/dashboard.html; others get the same data as structured content and a text table.
 */
export const dashboard = defineTool({
  name: 'mpop_dashboard',
  title: 'Fleet dashboard',
  description:
    'The fleet at a glance, read now: one row per node (online / stale / offline, last seen, CPU, memory, worst disk, network, load, vssh round trip, uptime, versions), the counts, the monitor\'s firing alerts and the last heal fixes, and each node\'s CPU / memory / load / disk history from the monitor database (the last `hours`, ' +
    `at most ${HISTORY_POINTS} points, for the first ${HISTORY_NODES} nodes; give one node as target for its own). ` +
    'Clients that render MCP Apps show it as an interactive table with plots whose buttons call read-only tools; the text is the same table.',
  toolset: 'core',
  input: {
    target: targetField.optional().describe('the nodes to show (default all): a node, @group, glob, comma list'),
    hours: z.number().positive().max(24 * 30).optional().describe('how far back the history goes, in hours (default 6)'),
  },
  output: {
    generatedAt: z.string(),
    intervalMs: z.number(),
    staleAfterMs: z.number(),
    nodes: z.array(nodeRow),
    groups: z.array(z.string()),
    counts: z.object({ total: z.number(), online: z.number(), stale: z.number(), offline: z.number() }),
    alerts: z.array(z.object({ node: z.string(), rule: z.string(), subject: z.string(), since: z.string(), value: z.number().nullable(), threshold: z.number(), message: z.string() })),
    heal: z.array(z.object({ time: z.string(), node: z.string(), check: z.string(), action: z.string(), result: z.string(), before: z.string(), after: z.string().nullable() })),
    notes: z.array(z.string()),
    monitored: z.boolean().describe('a monitor database exists on this machine (mpop monitor writes it)'),
    hours: z.number(),
    history: z.array(history),
  },
  annotations: READ,
  ui: DASHBOARD_APP_URI,
  targets: (a) => a.target ?? 'all',
  async run({ target, hours = 6 }, ctx) {
    const view = await readFleetView({ home: ctx.home, pool: ctx.pool, intervalMs: PER_NODE_TIMEOUT_MS, readings, ...(target ? { target } : {}) }, ctx.signal);
    const db = mpopPaths(ctx.home).monitorDb;
    const histories: History[] = readHistories(db, view.nodes.slice(0, HISTORY_NODES).map((n) => n.name), hours).map((h) => downsample(h, HISTORY_POINTS));
    const monitored = histories.some((h) => h.monitored);
    const notes = [...view.notes];
    if (!monitored && view.nodes.length) notes.push('no monitor history on this machine yet: `mpop monitor` samples the fleet every 30 s into the database the plots read');
    if (view.nodes.length > HISTORY_NODES) notes.push(`history for the first ${HISTORY_NODES} of ${view.nodes.length} nodes; call mpop_dashboard with a node as target for another`);
    const full = { ...view, notes };
    return {
      data: {
        ...full,
        alerts: view.alerts.map(({ node, rule, subject, since, value, threshold, message }) => ({ node, rule, subject, since, value, threshold, message })),
        nodes: view.nodes as unknown as z.infer<typeof nodeRow>[],
        monitored,
        hours,
        history: histories.map(({ node, t, cpu, mem, load, disk }) => ({ node, t, cpu, mem, load, disk })),
      },
      text: dashboardText(full),
    };
  },
});
