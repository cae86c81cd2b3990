import { Args, Flags } from '@oclif/core';
import { MpopCommand, paint, parseDuration } from '../cli/base.js';
import { progress, type Progress } from '../cli/progress.js';
import { readHealConfig } from '../heal/config.js';
import { openMonitorDb } from '../monitor/db.js';
import { runMonitor, type MonitorSummary, type RoundResult } from '../monitor/monitor.js';
import { DEFAULT_RETENTION, parseDownsample } from '../monitor/retention.js';

export default class Monitor extends MpopCommand {
  static override summary = 'Sample every node on an interval into $MESHPOP_HOME/mpop/monitor.db and raise alerts on thresholds.';
  static override description =
    'Each round asks every node of TARGET (default all, read again each round) for one vssh sysinfo (plus inode use and ' +
    'network counters), and stores a row per node (cpu, load, memory, swap, each disk, round trip, or down and why) in one ' +
    'SQLite transaction. Alerts (thresholds in heal.yaml\'s monitor.alerts: disk above 90%, memory available below 10%, ' +
    'load1 above 2 x cores for 3 samples, unreachable for 2 rounds) are raised and resolved after each round; mpop alerts ' +
    'lists them. Old rows are averaged into coarser buckets (--downsample AGE=BUCKET, default 24h=5m,7d=1h) and deleted ' +
    'past --retention (default 30d). Runs until Ctrl-C or SIGTERM, which let the round in progress finish. ' +
    'mpop install-service monitor runs it as a systemd service.';
  static override examples = [
    '<%= config.bin %> monitor --once',
    '<%= config.bin %> monitor all --interval 30s',
    '<%= config.bin %> monitor @web --interval 1m --retention 7d --downsample 6h=5m,2d=1h',
  ];
  static override args = { target: Args.string({ description: 'the nodes to sample: a node, @group, glob, comma list or all (default)' }) };
  static override flags = {
    interval: Flags.string({ description: 'between two rounds (30s, 1m)', default: '30s' }),
    once: Flags.boolean({ description: 'one round, then exit' }),
    retention: Flags.string({ description: 'delete rows older than this (7d, 30d)' }),
    downsample: Flags.string({ multiple: true, description: 'AGE=BUCKET: rows older than AGE become averages per BUCKET (24h=5m,7d=1h)' }),
    timeout: Flags.string({ char: 't', description: 'per node: a sample slower than this counts as down (default 20s)' }),
    concurrency: Flags.integer({ char: 'f', description: 'nodes at once (default 500)', min: 1 }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<MonitorSummary> {
    const { args, flags } = await this.parse(Monitor);
    const intervalMs = parseDuration(flags.interval, '--interval');
    if (intervalMs < 1000) this.usage('--interval must be 1s at least');
    const retentionMs = flags.retention ? parseDuration(flags.retention, '--retention') : DEFAULT_RETENTION.retentionMs;
    const steps = flags.downsample ? parseDownsample(flags.downsample, retentionMs) : DEFAULT_RETENTION.steps.filter((s) => s.afterMs < retentionMs);
    const rules = readHealConfig(this.paths.healConfig).monitor.alerts;
    openMonitorDb(this.paths.monitorDb, { create: true }).close(); // a damaged file fails now, before any node is asked
    const target = args.target ?? 'all';
    (await this.inventory(flags.inventory)).resolve(target); // a bad target fails now, not at the first round
    const json = this.jsonEnabled();
    const c = paint(process.stdout);
    let bar: Progress | undefined;
    const summary = await runMonitor(this.pool, {
      db: this.paths.monitorDb,
      nodes: async () => (await this.inventory(flags.inventory)).resolve(target),
      intervalMs,
      once: flags.once,
      retention: { retentionMs, steps },
      rules,
      ...(flags.timeout ? { timeoutMs: parseDuration(flags.timeout, '--timeout') } : {}),
      ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
      signal: this.signal(),
      onProgress: (p) => {
        if (json) return;
        bar ??= progress();
        bar.update(`round: ${p.done}/${p.total} nodes`, p.done, p.total);
      },
      onRound: (r) => {
        bar?.stop();
        bar = undefined;
        if (!json) this.log(roundLine(r, c));
      },
    });
    return summary;
  }
}

/** roundLine is one round for people: when, how many up, the down ones and why, the alerts raised and resolved. */
function roundLine(r: RoundResult, c: ReturnType<typeof paint>): string {
  const down = r.samples.filter((s) => !s.up).map((s) => `${s.node} (${s.error?.message ?? 'down'})`);
  const parts = [`round ${r.round}`, r.time, `${r.up} up`, ...(r.down ? [c.red(`${r.down} down: ${down.join('; ')}`)] : []), ...r.notes.map((n) => c.yellow(n))];
  for (const a of r.alerts) parts.push(a.change === 'raised' ? c.yellow(`ALERT ${a.alert.message}`) : c.green(`resolved: ${a.alert.node} ${a.alert.rule}${a.alert.subject ? ` ${a.alert.subject}` : ''}`));
  if (r.maintenance.buckets || r.maintenance.deleted) parts.push(c.dim(`${r.maintenance.merged} rows into ${r.maintenance.buckets} buckets, ${r.maintenance.deleted} deleted`));
  return parts.join('  ');
}
