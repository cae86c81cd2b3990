import type { HealCheck } from '../check.js';
import { unknown } from '../check.js';

/** Psi is /proc/pressure/memory: the share of time some (or all) tasks stalled on memory, over 10, 60 and 300 s. */
export interface Psi {
  some: { avg10: number; avg60: number; avg300: number };
  full: { avg10: number; avg60: number; avg300: number } | null;
}

/** parsePsi reads /proc/pressure/memory ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0"); null when it is not that. */
export function parsePsi(text: string): Psi | null {
  const line = (kind: string): Psi['some'] | null => {
    const m = new RegExp(`^${kind} avg10=([\\d.]+) avg60=([\\d.]+) avg300=([\\d.]+)`, 'm').exec(text);
    return m ? { avg10: Number(m[1]), avg60: Number(m[2]), avg300: Number(m[3]) } : null;
  };
  const some = line('some');
  return some ? { some, full: line('full') } : null;
}

/** memory: pressure from PSI where the kernel has it (some avg10 above thresholds.psi %), else available memory below thresholds.memory %. */
export const memory: HealCheck = {
  name: 'memory',
  describe: 'memory pressure: PSI (/proc/pressure/memory), else available %',
  async run(ctx) {
    const m = (await ctx.info()).memory;
    const availPct = m.totalBytes > 0 ? Math.round((1000 * m.availableBytes) / m.totalBytes) / 10 : null;
    const r = await ctx.run(['cat', '/proc/pressure/memory']);
    const psi = r !== 'missing' && r.exitCode === 0 ? parsePsi(r.stdout) : null;
    const t = ctx.config.thresholds;
    const evidence: Record<string, unknown> = { availablePct: availPct, availableBytes: m.availableBytes, totalBytes: m.totalBytes, psi, source: psi ? 'psi' : 'available' };
    if (psi) {
      const stalled = psi.some.avg10;
      if (stalled > t.psi) return { status: 'problem', diagnosis: `tasks stalled on memory ${stalled}% of the last 10 s (PSI some avg10; limit ${t.psi}%), ${availPct}% available`, evidence };
      if (availPct !== null && availPct < t.memory) return { status: 'warn', diagnosis: `only ${availPct}% of memory available, though PSI shows no stall (${stalled}%)`, evidence };
      return { status: 'ok', diagnosis: `PSI some avg10 ${stalled}% (limit ${t.psi}%), ${availPct}% available`, evidence };
    }
    if (availPct === null) return unknown(`${ctx.node} reports no memory total and has no /proc/pressure/memory`);
    if (availPct < t.memory) return { status: 'problem', diagnosis: `only ${availPct}% of memory available (limit ${t.memory}%; no PSI on this kernel)`, evidence };
    return { status: 'ok', diagnosis: `${availPct}% of memory available (no PSI on this kernel)`, evidence };
  },
};
