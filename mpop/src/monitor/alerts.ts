import type { AlertRules } from '../heal/config.js';
import type { MonitorDb } from './db.js';
import type { NodeSample } from './sample.js';
import { recentSamples } from './store.js';

/** AlertRule names what an alert watches. */
export type AlertRule = 'disk' | 'memory' | 'load' | 'unreachable';

/** Alert is one alert: firing while resolvedAt is null, else history. */
export interface Alert {
  id: number;
  node: string;
  rule: AlertRule;
  /** the mount of a disk alert, else '' */
  subject: string;
  /** ISO times */
  since: string;
  resolvedAt: string | null;
  firing: boolean;
  /** the latest value that kept it firing (or raised it) */
  value: number | null;
  threshold: number;
  message: string;
}

/** AlertChange is an alert raised or resolved by a round. */
export interface AlertChange {
  change: 'raised' | 'resolved';
  alert: Alert;
}

interface Row {
  id: number;
  node: string;
  rule: AlertRule;
  subject: string;
  since: number;
  resolved_at: number | null;
  value: number | null;
  threshold: number;
  message: string;
}

const toAlert = (r: Row): Alert => ({
  id: r.id, node: r.node, rule: r.rule, subject: r.subject, since: new Date(r.since).toISOString(), resolvedAt: r.resolved_at === null ? null : new Date(r.resolved_at).toISOString(),
  firing: r.resolved_at === null, value: r.value, threshold: r.threshold, message: r.message,
});

/** Condition is one rule's verdict on a node this round: firing with a value, clear, or not known (a down node's disks). */
type Condition = { subject: string; firing: boolean; value: number | null; threshold: number; message: string } | { subject: string; unknown: true };

/** conditionsOf reads a round's sample (and the node's recent raw samples) against the rules. */
function conditionsOf(db: MonitorDb, s: NodeSample, rules: AlertRules, open: Row[]): Map<AlertRule, Condition[]> {
  const out = new Map<AlertRule, Condition[]>();
  const recentDown = recentSamples(db, s.node, rules.unreachableRounds);
  const downs = recentDown.length === rules.unreachableRounds && recentDown.every((r) => !r.up);
  out.set('unreachable', [{ subject: '', firing: downs, value: recentDown.filter((r) => !r.up).length, threshold: rules.unreachableRounds, message: `${s.node} has not answered for ${rules.unreachableRounds} rounds${s.error ? `: ${s.error.message}` : ''}` }]);
  if (!s.up) {
    // Nothing is known of a down node's memory, load or disks: their alerts stay as they were.
    for (const rule of ['memory', 'load', 'disk'] as const) out.set(rule, open.filter((o) => o.rule === rule).map((o) => ({ subject: o.subject, unknown: true })));
    return out;
  }
  if (s.memAvail !== null && s.memTotal) {
    const pct = Math.round((1000 * s.memAvail) / s.memTotal) / 10;
    out.set('memory', [{ subject: '', firing: pct < rules.memory, value: pct, threshold: rules.memory, message: `${s.node} has ${pct}% of its memory available (alert below ${rules.memory}%)` }]);
  }
  const recent = recentSamples(db, s.node, rules.loadSamples);
  const over = (r: { load1: number | null; cores: number | null }): boolean => r.load1 !== null && !!r.cores && r.load1 > rules.load * r.cores;
  if (s.load && s.cores) {
    const limit = rules.load * s.cores;
    const firing = recent.length === rules.loadSamples && recent.every((r) => r.up && over(r));
    const stillOver = open.some((o) => o.rule === 'load') && over({ load1: s.load[0], cores: s.cores });
    out.set('load', [{ subject: '', firing: firing || stillOver, value: s.load[0], threshold: limit, message: `${s.node}'s load1 is ${s.load[0].toFixed(2)}, above ${limit} (${rules.load} x ${s.cores} cores) for ${rules.loadSamples} samples` }]);
  }
  const disks: Condition[] = s.disks.map((d) => ({ subject: d.mount, firing: d.usePct > rules.disk, value: d.usePct, threshold: rules.disk, message: `${s.node}:${d.mount} is ${d.usePct}% full (alert above ${rules.disk}%)` }));
  // A mount gone from a list that has others was unmounted; an empty list is a reading that failed, which clears nothing.
  for (const o of open) if (o.rule === 'disk' && !s.disks.some((d) => d.mount === o.subject)) disks.push(s.disks.length ? { subject: o.subject, firing: false, value: null, threshold: o.threshold, message: `${s.node}:${o.subject} is no longer mounted` } : { subject: o.subject, unknown: true });
  out.set('disk', disks);
  return out;
}

/** evaluateAlerts applies the rules to a round already stored: raises what newly fires, updates what still does, resolves what cleared (one transaction). */
export function evaluateAlerts(db: MonitorDb, round: NodeSample[], rules: AlertRules): AlertChange[] {
  const changes: AlertChange[] = [];
  const openOf = db.prepare('SELECT * FROM alerts WHERE node = ? AND resolved_at IS NULL');
  const raise = db.prepare('INSERT INTO alerts (node, rule, subject, since, value, threshold, message, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const update = db.prepare('UPDATE alerts SET value = ?, message = ?, updated = ? WHERE id = ?');
  const resolve = db.prepare('UPDATE alerts SET resolved_at = ?, updated = ? WHERE id = ?');
  const byId = db.prepare('SELECT * FROM alerts WHERE id = ?');
  db.transaction(() => {
    for (const s of round) {
      const open = openOf.all(s.node) as Row[];
      for (const [rule, conds] of conditionsOf(db, s, rules, open)) {
        for (const c of conds) {
          if ('unknown' in c) continue;
          const cur = open.find((o) => o.rule === rule && o.subject === c.subject);
          if (c.firing && !cur) {
            const id = Number(raise.run(s.node, rule, c.subject, s.t, c.value, c.threshold, c.message, s.t).lastInsertRowid);
            changes.push({ change: 'raised', alert: toAlert(byId.get(id) as Row) });
          } else if (c.firing && cur) update.run(c.value, c.message, s.t, cur.id);
          else if (!c.firing && cur) {
            resolve.run(s.t, s.t, cur.id);
            changes.push({ change: 'resolved', alert: toAlert(byId.get(cur.id) as Row) });
          }
        }
      }
    }
  }).immediate(); // take the write lock first: two writers wait (busy_timeout) instead of failing
  return changes;
}

/** listAlerts returns the firing alerts (with `all`, the history too), newest first. */
export function listAlerts(db: MonitorDb, opts: { all?: boolean; node?: string } = {}): Alert[] {
  const where = [opts.all ? '' : 'resolved_at IS NULL', opts.node ? 'node = @node' : ''].filter(Boolean);
  const rows = db.prepare(`SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY since DESC, id DESC`).all(opts.node ? { node: opts.node } : {}) as Row[];
  return rows.map(toAlert);
}
