import type { FixOutcome, HealCheck, HealContext } from '../check.js';
import { unknown } from '../check.js';
import { firstLine } from '../remote.js';

/** UNIT_NAME is what a unit name may be (so it goes to systemctl and journalctl as a plain word). */
const UNIT_NAME = /^[A-Za-z0-9@:._\\-]+$/;

/** journalTail reads a unit's last log lines from `journalctl -o json` (MESSAGE fields; a byte-array message decoded). */
export function parseJournalJson(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const m = (JSON.parse(line) as { MESSAGE?: unknown }).MESSAGE;
      if (typeof m === 'string') out.push(m);
      else if (Array.isArray(m)) out.push(Buffer.from(m as number[]).toString('utf8'));
    } catch {
      /* a line cut by the output cap */
    }
  }
  return out;
}

async function lastLines(ctx: HealContext, unit: string): Promise<string[]> {
  const r = await ctx.run(['journalctl', '-u', unit, '-n', '5', '-o', 'json', '--no-pager']);
  return r === 'missing' || r.exitCode !== 0 ? [] : parseJournalJson(r.stdout);
}

async function failed(ctx: HealContext): Promise<string[] | null> {
  const units = (await ctx.info()).failedUnits;
  return units === null ? null : units.filter((u) => !ctx.config.units.ignore.includes(u) && UNIT_NAME.test(u));
}

/** unit: a failed systemd unit is a problem, its last log lines in the diagnosis; the fix restarts it. */
export const unit: HealCheck = {
  name: 'unit',
  describe: 'systemd: a failed unit',
  fixes: 'systemctl restart of each failed unit (those under units.ignore left alone)',
  async run(ctx) {
    const units = await failed(ctx);
    if (units === null) return unknown(`no systemd on ${ctx.node} (it is not running there), so units cannot be checked`);
    if (!units.length) return { status: 'ok', diagnosis: 'no failed units', evidence: { failed: [] } };
    const logs: Record<string, string[]> = {};
    for (const u of units) logs[u] = await lastLines(ctx, u);
    return {
      status: 'problem',
      diagnosis: units.map((u) => `${u} failed${logs[u]!.length ? `; last log: ${logs[u]!.slice(-3).join(' / ')}` : ''}`).join('; '),
      evidence: { failed: units, logs },
    };
  },
  async fix(ctx): Promise<FixOutcome> {
    const units = (await failed(ctx)) ?? [];
    const steps: NonNullable<FixOutcome['steps']> = [];
    for (const u of units) {
      const r = await ctx.run(['systemctl', 'restart', u], { timeoutMs: 120_000 });
      steps.push(r === 'missing' ? { command: `systemctl restart ${u}`, exitCode: null, stderr: 'systemctl is not installed' } : { command: `systemctl restart ${u}`, exitCode: r.exitCode, ...(r.exitCode !== 0 ? { stderr: firstLine(r.stderr) } : {}) });
    }
    const bad = steps.filter((s) => s.exitCode !== 0);
    return { action: `systemctl restart ${units.join(' ')}`, ok: bad.length === 0, detail: bad.length ? bad.map((s) => `\`${s.command}\` failed: ${s.stderr ?? `exit ${s.exitCode}`}`).join('; ') : `restarted ${units.length} unit(s)`, steps };
  },
};
