import { existsSync } from 'node:fs';
import { z } from 'zod';
import { MpopError } from '../../errors.js';
import { fold } from '../../fanout/fold.js';
import type { MonitorDb } from '../../monitor/db.js';
import { listAlerts } from '../../monitor/alerts.js';
import { sampleRound, type NodeSample } from '../../monitor/sample.js';
import { monitoredNodes } from '../../monitor/store.js';
import { TREND_METRICS, trend, type Trend } from '../../monitor/trend.js';
import { mpopPaths } from '../../paths.js';
import { defineTool, LOCAL_READ, READ, type ToolContext, type ToolDef } from '../tool.js';
import { targetField } from './exec.js';

/** noHistory is what an agent is told when this machine has no monitor database: how to start one. */
const noHistory = (file: string): string =>
  `No monitor history on this machine yet (${file} does not exist), so there are no trends or alerts to read. ` +
  'Start the monitor on the controller: `mpop monitor` (a round every 30 s into that file; `mpop monitor --once` for a single round), ' +
  'or as a systemd service: `mpop install-service monitor` (it prints the systemctl commands). mpop_watch samples the nodes now without it.';

/**
 * withMonitorDb opens the monitor database read-only for one read (better-sqlite3 is loaded only here, not at
 * server start) and closes it; no file yet is an MPOP_MONITOR error that says how to start the monitor.
 */
async function withMonitorDb<T>(ctx: ToolContext, fn: (db: MonitorDb, file: string) => T): Promise<T> {
  const file = mpopPaths(ctx.home).monitorDb;
  if (!existsSync(file)) throw new MpopError('MPOP_MONITOR', noHistory(file));
  const { openMonitorDb } = await import('../../monitor/db.js');
  const db = openMonitorDb(file, { readonly: true });
  try {
    return fn(db, file);
  } finally {
    db.close();
  }
}

/** lastRound is when the monitor last stored a round (ISO), or null. */
const lastRound = (db: MonitorDb): string | null => {
  const r = db.prepare('SELECT max(t) AS t FROM samples').get() as { t: number | null };
  return r.t === null ? null : new Date(r.t).toISOString();
};

/** STALE_MS: a monitor whose last round is older than this has probably stopped, and the agent is told so. */
const STALE_MS = 10 * 60_000;

const staleNote = (last: string | null): string | undefined => {
  if (last === null) return 'the monitor has stored no round yet';
  const age = Date.now() - Date.parse(last);
  return age > STALE_MS ? `the monitor's last round was ${Math.round(age / 60_000)} min ago (${last}): is \`mpop monitor\` still running?` : undefined;
};

const num = z.number().nullable();
const bucket = z.object({ start: z.string(), min: num, avg: num, max: num, samples: z.number() });

const trendTool = defineTool({
  name: 'mpop_trend',
  title: 'Metric history of a node',
  description:
    'A node\'s cpu, mem (used %), disk (use % of a mount) or load (load1) over the last hours, from the monitor database that `mpop monitor` writes on this machine: the range cut into buckets, each with min, average (weighted by the samples it stands for) and max, a sparkline, and the range\'s min/avg/max. A bucket with no samples has nulls (the node was not sampled, not a zero). Without a monitor database the result says how to start the monitor.',
  toolset: 'monitoring',
  input: {
    node: z.string().min(1).describe('the node, as the monitor names it (mpop_servers lists the fleet)'),
    metric: z.enum(TREND_METRICS).optional().describe('cpu (default), mem, disk or load'),
    mount: z.string().min(1).optional().describe('disk only: the mount point (default /)'),
    hours: z.number().positive().max(24 * 400).optional().describe('how far back, in hours (default 24)'),
    buckets: z.number().int().min(1).max(500).optional().describe('how many slices the range is cut into (default 24)'),
  },
  output: {
    db: z.string(),
    node: z.string(),
    metric: z.enum(TREND_METRICS),
    unit: z.enum(['%', 'load1']),
    mount: z.string().nullable(),
    from: z.string(),
    to: z.string(),
    bucketMs: z.number(),
    buckets: z.array(bucket),
    min: num,
    avg: num,
    max: num,
    samples: z.number(),
    sparkline: z.string(),
    lastRound: z.string().nullable(),
  },
  annotations: LOCAL_READ,
  targets: (a) => a.node,
  async run(a, ctx) {
    const metric = a.metric ?? 'cpu';
    if (a.mount && metric !== 'disk') throw new MpopError('MPOP_USAGE', `mount goes with metric "disk" (the metric is ${metric})`);
    return withMonitorDb(ctx, (db, file) => {
      let t: Trend;
      try {
        t = trend(db, { node: a.node, metric, ...(a.mount ? { mount: a.mount } : {}), ...(a.hours ? { hours: a.hours } : {}), ...(a.buckets ? { buckets: a.buckets } : {}) });
      } catch (err) {
        if (err instanceof MpopError && err.code === 'MPOP_MONITOR') {
          const known = monitoredNodes(db);
          throw new MpopError('MPOP_MONITOR', `${err.message} The monitor has samples of: ${known.join(', ') || 'no node yet'}.`);
        }
        throw err;
      }
      const last = lastRound(db);
      const f = (x: number | null): string => (x === null ? '-' : t.unit === '%' ? `${x.toFixed(1)}%` : x.toFixed(2));
      const note = staleNote(last);
      const rows = t.buckets.filter((b) => b.samples > 0).map((b) => `${b.start.slice(0, 16).replace('T', ' ')}  min ${f(b.min)}  avg ${f(b.avg)}  max ${f(b.max)}  (${b.samples})`);
      const text = [
        `${t.node} ${t.metric}${t.mount ? ` ${t.mount}` : ''}, last ${a.hours ?? 24} h in ${t.buckets.length} buckets: ${t.sparkline}  min ${f(t.min)} avg ${f(t.avg)} max ${f(t.max)} (${t.samples} samples)`,
        ...(rows.length ? rows : ['no samples in this range']),
        ...(note ? [`note: ${note}`] : []),
      ].join('\n');
      return { data: { db: file, ...t, lastRound: last }, text };
    });
  },
});

const alert = z.object({
  id: z.number(),
  node: z.string(),
  rule: z.enum(['disk', 'memory', 'load', 'unreachable']),
  subject: z.string().describe('the mount of a disk alert, else empty'),
  since: z.string(),
  resolvedAt: z.string().nullable(),
  firing: z.boolean(),
  value: z.number().nullable(),
  threshold: z.number(),
  message: z.string(),
});

const alertsTool = defineTool({
  name: 'mpop_alerts',
  title: 'Monitor alerts',
  description:
    'The alerts `mpop monitor` raised and has not resolved (all: true adds the resolved ones, as history), newest first: disk above 90%, memory available below 10%, load1 above 2 x cores for 3 samples, a node unreachable for 2 rounds (thresholds in heal.yaml under monitor.alerts). lastRound says when the monitor last sampled, so an empty list from a monitor that stopped is not mistaken for a healthy fleet. Without a monitor database the result says how to start the monitor.',
  toolset: 'monitoring',
  input: {
    all: z.boolean().optional().describe('resolved alerts too (the history)'),
    node: z.string().min(1).optional().describe('only this node\'s alerts'),
  },
  output: { db: z.string(), alerts: z.array(alert), firing: z.number(), lastRound: z.string().nullable() },
  annotations: LOCAL_READ,
  targets: (a) => a.node,
  async run(a, ctx) {
    return withMonitorDb(ctx, (db, file) => {
      const alerts = listAlerts(db, { all: a.all === true, ...(a.node ? { node: a.node } : {}) });
      const firing = alerts.filter((x) => x.firing).length;
      const last = lastRound(db);
      const note = staleNote(last);
      const lines = alerts.map((x) => `${x.firing ? 'FIRING  ' : 'resolved'} ${x.node} ${x.rule}${x.subject ? ` ${x.subject}` : ''} since ${x.since.slice(0, 19).replace('T', ' ')}${x.resolvedAt ? ` until ${x.resolvedAt.slice(0, 19).replace('T', ' ')}` : ''}: ${x.message}`);
      const head = alerts.length ? `${firing} firing${a.all ? `, ${alerts.length - firing} resolved` : ''}` : a.all ? 'no alerts, ever' : 'no alerts firing';
      const text = [`${head}${a.node ? ` on ${a.node}` : ''} (monitor's last round: ${last ?? 'none'})`, ...lines, ...(note ? [`note: ${note}`] : [])].join('\n');
      return { data: { db: file, alerts, firing, lastRound: last }, text };
    });
  },
});

/** WatchValues is one node at one round of a watch. */
const watchValues = z.object({
  round: z.number(),
  t: z.string(),
  up: z.boolean(),
  cpu: num.describe('CPU busy %'),
  memPercent: num.describe('memory used % (total - available)'),
  load1: num,
  cores: num,
  disks: z.array(z.object({ mount: z.string(), usePct: z.number() })),
  rttMs: num,
  netRxBps: num.describe('bytes/s received since the previous round (all interfaces but lo)'),
  netTxBps: num.describe('bytes/s sent since the previous round'),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
type WatchValues = z.infer<typeof watchValues>;

/** WATCH_STEPS are the smallest moves, first round to last, that a watch reports as a change. */
export const WATCH_STEPS = { cpu: 10, memPercent: 5, load1: 0.5, disk: 1 } as const;

const round1 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);

/** valuesOf reads a sample into a watch's values; rates come from the counters' move since `prev`. */
function valuesOf(round: number, s: NodeSample, prev: NodeSample | undefined): WatchValues {
  const dt = prev ? (s.t - prev.t) / 1000 : 0;
  const rate = (a: number | null, b: number | null | undefined): number | null => (a !== null && b !== null && b !== undefined && dt > 0 && a >= b ? Math.round((a - b) / dt) : null);
  return {
    round,
    t: new Date(s.t).toISOString(),
    up: s.up,
    cpu: round1(s.cpu),
    memPercent: s.memTotal && s.memAvail !== null ? round1((100 * (s.memTotal - s.memAvail)) / s.memTotal) : null,
    load1: s.load ? s.load[0] : null,
    cores: s.cores,
    disks: s.disks.map((d) => ({ mount: d.mount, usePct: d.usePct })),
    rttMs: s.rttMs,
    netRxBps: prev?.up && s.up ? rate(s.netRx, prev.netRx) : null,
    netTxBps: prev?.up && s.up ? rate(s.netTx, prev.netTx) : null,
    ...(s.error ? { error: s.error } : {}),
  };
}

/** changesOf says what moved over a node's rounds: down and back up, and first-to-last moves past WATCH_STEPS. */
export function changesOf(rounds: WatchValues[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < rounds.length; i++) {
    const [a, b] = [rounds[i - 1]!, rounds[i]!];
    if (a.up && !b.up) out.push(`went down at round ${b.round}${b.error ? ` (${b.error.code}: ${b.error.message})` : ''}`);
    if (!a.up && b.up) out.push(`back up at round ${b.round}`);
  }
  const up = rounds.filter((r) => r.up);
  if (rounds.length && !up.length) return [`unreachable in all ${rounds.length} round(s)${rounds[0]!.error ? `: ${rounds[0]!.error.message}` : ''}`];
  if (up.length < 2) return out;
  const [first, last] = [up[0]!, up[up.length - 1]!];
  const move = (label: string, x: number | null, y: number | null, step: number, unit: string): void => {
    if (x !== null && y !== null && Math.abs(y - x) >= step) out.push(`${label} ${x}${unit} -> ${y}${unit}`);
  };
  move('cpu', first.cpu, last.cpu, WATCH_STEPS.cpu, '%');
  move('mem', first.memPercent, last.memPercent, WATCH_STEPS.memPercent, '%');
  move('load1', first.load1, last.load1, WATCH_STEPS.load1, '');
  for (const d of last.disks) {
    const was = first.disks.find((x) => x.mount === d.mount);
    if (!was) out.push(`mount ${d.mount} appeared (${d.usePct}%)`);
    else move(`disk ${d.mount}`, was.usePct, d.usePct, WATCH_STEPS.disk, '%');
  }
  for (const d of first.disks) if (last.disks.length && !last.disks.some((x) => x.mount === d.mount)) out.push(`mount ${d.mount} gone`);
  return out;
}

/** pause waits `ms` or until the signal fires. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const pct = (x: number | null): string => (x === null ? '?' : `${Math.round(x)}%`);

const watchTool = defineTool({
  name: 'mpop_watch',
  title: 'Watch nodes now',
  description:
    'Samples the target\'s nodes now (vssh sysinfo: cpu, memory, load, disks, network counters), `rounds` times `intervalSeconds` apart, and returns per node the values of every round and what changed from the first round to the last (cpu by 10 points or more, memory by 5, load1 by 0.5, a disk by 1, mounts that came or went, a node that went down or came back). Needs no monitor database and stores nothing. Sends progress after each round; cancelling stops it between rounds.',
  toolset: 'monitoring',
  input: {
    target: targetField.optional().describe('nodes to watch (default all): a node, @group, glob, comma list, all, @failed or @changed'),
    rounds: z.number().int().min(1).max(120).optional().describe('how many samples per node (default 3)'),
    intervalSeconds: z.number().min(1).max(600).optional().describe('between the starts of two rounds (default 5)'),
    timeoutSeconds: z.number().positive().max(120).optional().describe('per node and round: a node slower than this counts as down for that round (default 20)'),
  },
  output: {
    target: z.string(),
    rounds: z.number().describe('rounds taken (fewer than asked when cancelled)'),
    intervalSeconds: z.number(),
    nodes: z.array(z.object({ node: z.string(), values: z.array(watchValues), changes: z.array(z.string()) })),
    stopped: z.string().optional(),
  },
  annotations: READ,
  long: true,
  targets: (a) => a.target ?? 'all',
  async run(a, ctx) {
    const target = a.target ?? 'all';
    const nodes = (await ctx.inventory()).resolve(target);
    const want = a.rounds ?? 3;
    const interval = (a.intervalSeconds ?? 5) * 1000;
    const per = new Map<string, { samples: NodeSample[]; values: WatchValues[] }>(nodes.map((n) => [n, { samples: [], values: [] }]));
    let taken = 0;
    ctx.progress({ done: 0, total: want, message: `sampling ${nodes.length} node(s)` });
    for (let i = 1; i <= want; i++) {
      const started = Date.now();
      const round = await sampleRound(ctx.pool, nodes, { signal: ctx.signal, timeoutMs: (a.timeoutSeconds ?? 20) * 1000 });
      if (ctx.signal.aborted) break; // a round cut short by the cancel is not a reading
      taken = i;
      for (const s of round) {
        const p = per.get(s.node)!;
        p.values.push(valuesOf(i, s, p.samples.at(-1)));
        p.samples.push(s);
      }
      const up = round.filter((s) => s.up).length;
      ctx.progress({ done: i, total: want, message: `round ${i}/${want}: ${up} up, ${round.length - up} down` });
      if (i < want) await pause(Math.max(0, started + interval - Date.now()), ctx.signal);
      if (ctx.signal.aborted) break;
    }
    const out = nodes.map((node) => {
      const values = per.get(node)!.values;
      return { node, values, changes: changesOf(values) };
    });
    const render = (n: (typeof out)[number]): string => {
      const last = n.values.at(-1);
      if (!last) return 'no round taken';
      if (!last.up && n.changes.length === 1 && n.changes[0]!.startsWith('unreachable')) return n.changes[0]!;
      const now = last.up ? `cpu ${pct(last.cpu)} mem ${pct(last.memPercent)} load1 ${last.load1 ?? '?'}${last.disks.length ? ` disk ${last.disks.map((d) => `${d.mount} ${d.usePct}%`).join(' ')}` : ''}` : `down: ${last.error?.message ?? 'no answer'}`;
      return `${now}\n  ${n.changes.length ? `changed: ${n.changes.join('; ')}` : taken > 1 ? 'steady' : 'one round: nothing to compare'}`;
    };
    const stopped = ctx.signal.aborted ? `cancelled after ${taken} of ${want} rounds` : undefined;
    const text = [...fold(out.map((n) => ({ node: n.node, text: render(n) }))).map((f) => `${f.label}: ${f.text}`), `${taken} round(s) of ${nodes.length} node(s), ${interval / 1000} s apart${stopped ? `; ${stopped}` : ''}`].join('\n');
    return {
      data: { target, rounds: taken, intervalSeconds: interval / 1000, nodes: out, ...(stopped ? { stopped } : {}) },
      text,
      isError: out.some((n) => n.values.some((v) => !v.up)),
    };
  },
});

/** monitorTools: mpop_trend, mpop_alerts, mpop_watch (toolset monitoring, from the monitor database). */
export const monitorTools: ToolDef[] = [trendTool, alertsTool, watchTool] as unknown as ToolDef[];
