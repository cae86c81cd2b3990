import type { HealCheck } from '../check.js';
import { unknown } from '../check.js';

/** parseTopProcs reads `ps -eo pid,pcpu,comm --sort=-pcpu --no-headers` (the busiest first). */
export function parseTopProcs(text: string, n = 5): { pid: number; cpu: number; comm: string }[] {
  return text.split('\n').map((l) => /^\s*(\d+)\s+([\d.]+)\s+(.+)$/.exec(l)).filter((m): m is RegExpExecArray => !!m).slice(0, n).map((m) => ({ pid: Number(m[1]), cpu: Number(m[2]), comm: m[3]!.trim() }));
}

/** load: load1 above thresholds.load x cores is a problem (the busiest processes named); diagnosis only. */
export const load: HealCheck = {
  name: 'load',
  describe: 'load: load1 above thresholds.load per core',
  async run(ctx) {
    const info = await ctx.info();
    const cores = info.cpu.count;
    if (!cores) return unknown(`${ctx.node} did not say how many cores it has`);
    const limit = ctx.config.thresholds.load * cores;
    const [l1, l5, l15] = info.load;
    const evidence: Record<string, unknown> = { load1: l1, load5: l5, load15: l15, cores, limit };
    if (l1 <= limit) return { status: l1 > 0.8 * limit ? 'warn' : 'ok', diagnosis: `load1 ${l1.toFixed(2)} on ${cores} core(s) (limit ${limit})`, evidence };
    const ps = await ctx.run(['ps', '-eo', 'pid,pcpu,comm', '--sort=-pcpu', '--no-headers']);
    const top = ps === 'missing' || ps.exitCode !== 0 ? [] : parseTopProcs(ps.stdout);
    evidence.top = top;
    return { status: 'problem', diagnosis: `load1 ${l1.toFixed(2)} is above ${limit} (${ctx.config.thresholds.load} x ${cores} cores; load5 ${l5.toFixed(2)})${top.length ? `; busiest: ${top.slice(0, 3).map((p) => `${p.comm} (${p.pid}) ${p.cpu}%`).join(', ')}` : ''}`, evidence };
  },
};
