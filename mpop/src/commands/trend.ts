import { Args, Flags } from '@oclif/core';
import { MpopCommand, paint, table } from '../cli/base.js';
import { openMonitorDb } from '../monitor/db.js';
import { TREND_METRICS, trend, type Trend, type TrendMetric } from '../monitor/trend.js';

export default class TrendCommand extends MpopCommand {
  static override summary = 'Show a node\'s cpu, memory, disk or load history from the monitor DB: a table of buckets and a sparkline.';
  static override description =
    'Reads what mpop monitor stored (raw samples and older averaged buckets alike) for the last --hours, cut into --buckets ' +
    'slices: each slice\'s min, average (weighted by the samples it stands for) and max, then a sparkline (▁ to █; a gap ' +
    'where nothing was stored) and the range\'s min/avg/max. cpu, mem (used %) and disk (use % of --mount) are scaled 0 to ' +
    '100; load (load1) to its own range. --json gives the typed series.';
  static override examples = ['<%= config.bin %> trend n1 --metric cpu', '<%= config.bin %> trend n1 --metric disk --mount /var --hours 168', '<%= config.bin %> trend n1 --metric load --json'];
  static override args = { node: Args.string({ required: true, description: 'the node' }) };
  static override flags = {
    metric: Flags.string({ char: 'm', options: [...TREND_METRICS], default: 'cpu', description: 'what to show' }),
    mount: Flags.string({ description: 'disk only: the mount (default /)' }),
    hours: Flags.string({ description: 'how far back (hours; 24 by default)', default: '24' }),
    buckets: Flags.integer({ description: 'slices of the range (default 24)', min: 1, max: 500 }),
  };

  async run(): Promise<Trend> {
    const { args, flags } = await this.parse(TrendCommand);
    const hours = Number(flags.hours);
    if (!Number.isFinite(hours) || hours <= 0) this.usage(`--hours "${flags.hours}" is not a number of hours above 0`);
    if (flags.mount && flags.metric !== 'disk') this.usage('--mount goes with --metric disk');
    const db = openMonitorDb(this.paths.monitorDb);
    let t: Trend;
    try {
      t = trend(db, { node: args.node, metric: flags.metric as TrendMetric, hours, ...(flags.mount ? { mount: flags.mount } : {}), ...(flags.buckets ? { buckets: flags.buckets } : {}) });
    } finally {
      db.close();
    }
    if (!this.jsonEnabled()) {
      const c = paint(process.stdout);
      const f = (x: number | null): string => (x === null ? '-' : t.unit === '%' ? `${x.toFixed(1)}%` : x.toFixed(2));
      const label = `${t.node} ${t.metric}${t.mount ? ` ${t.mount}` : ''}`;
      this.log(table(['FROM', 'MIN', 'AVG', 'MAX', 'SAMPLES'], t.buckets.map((b) => [b.start.replace('T', ' ').slice(0, 16), f(b.min), f(b.avg), f(b.max), String(b.samples)])));
      this.log('');
      this.log(`${c.bold(label)}  ${c.cyan(t.sparkline)}  min ${f(t.min)}  avg ${f(t.avg)}  max ${f(t.max)}  (${t.samples} samples, last ${hours} h)`);
    }
    return t;
  }
}
