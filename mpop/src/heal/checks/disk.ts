import { size } from '../../cli/format.js';
import type { FixOutcome, HealCheck, HealContext } from '../check.js';
import { unknown } from '../check.js';
import { readDf, type DfRow } from '../df.js';
import { firstLine } from '../remote.js';

/** cleanerArgv is what each allowed cleaner runs on the node (argv, no shell): only what heal.yaml's disk.clean lists. */
export function cleanerArgv(name: string, cfg: HealContext['config']['disk']): string[][] {
  const days = `+${cfg.olderThanDays}`;
  switch (name) {
    case 'apt': return [['apt-get', 'clean']];
    case 'journal': return [['journalctl', `--vacuum-size=${cfg.journalKeep}`]];
    case 'rotated': return [['find', '/var/log', '-xdev', '-type', 'f', '(', '-name', '*.gz', '-o', '-name', '*.[0-9]', '-o', '-name', '*.old', ')', '-mtime', days, '-delete']];
    case 'tmp': return cfg.tmpDirs.map((d) => ['find', d, '-xdev', '-mindepth', '1', '-type', 'f', '-mtime', days, '-delete']);
    default: return cfg.commands[name] ? [cfg.commands[name]!] : [];
  }
}

const over = (rows: DfRow[], limit: number): DfRow[] => rows.filter((r) => r.usePct !== null && r.usePct > limit);

/** disk: a mount fuller than thresholds.disk % is a problem; the fix runs the cleaners heal.yaml allows and reports the bytes freed. */
export const disk: HealCheck = {
  name: 'disk',
  describe: 'disk space: a mount above thresholds.disk % used',
  fixes: 'runs the cleaners heal.yaml\'s disk.clean allows (apt, journal, rotated, tmp, or its own disk.commands; nothing when it lists none) and says the bytes freed',
  async run(ctx) {
    const rows = await readDf(ctx);
    if (rows === 'missing') return unknown(`no GNU df on ${ctx.node}, so its disks cannot be read`);
    if (!rows.length) return unknown(`df on ${ctx.node} showed no filesystem${ctx.config.disk.mounts ? ` for ${ctx.config.disk.mounts.join(', ')}` : ''}`);
    const limit = ctx.config.thresholds.disk;
    const full = over(rows, limit);
    const evidence = { threshold: limit, mounts: rows.map((r) => ({ mount: r.mount, fs: r.fs, usePct: r.usePct, used: r.used, avail: r.avail, size: r.size })) };
    if (full.length) return { status: 'problem', diagnosis: full.map((r) => `${r.mount} is ${r.usePct}% full (${size(r.avail)} free of ${size(r.size)}; limit ${limit}%)`).join('; '), evidence };
    const near = rows.filter((r) => r.usePct !== null && r.usePct > limit - 5);
    if (near.length) return { status: 'warn', diagnosis: near.map((r) => `${r.mount} is ${r.usePct}% full, near the ${limit}% limit`).join('; '), evidence };
    const top = rows.reduce((a, b) => ((b.usePct ?? 0) > (a.usePct ?? 0) ? b : a));
    return { status: 'ok', diagnosis: `${rows.length} mount(s) below ${limit}% (fullest: ${top.mount} at ${top.usePct}%)`, evidence };
  },
  async fix(ctx): Promise<FixOutcome> {
    const cfg = ctx.config.disk;
    if (!cfg.clean.length) return { action: 'none', ok: false, notRun: true, detail: 'heal.yaml allows no cleaning (disk.clean is empty: list apt, journal, rotated, tmp or your own disk.commands)' };
    const before = await readDf(ctx);
    const steps: NonNullable<FixOutcome['steps']> = [];
    for (const name of cfg.clean) {
      for (const argv of cleanerArgv(name, cfg)) {
        const r = await ctx.run(argv, { timeoutMs: 300_000 });
        steps.push(r === 'missing' ? { command: argv.join(' '), exitCode: null, stderr: `${argv[0]} is not installed` } : { command: argv.join(' '), exitCode: r.exitCode, ...(r.exitCode !== 0 ? { stderr: firstLine(r.stderr) } : {}) });
      }
    }
    const after = await readDf(ctx);
    let freed = 0;
    if (before !== 'missing' && after !== 'missing') for (const b of before) freed += Math.max(0, b.used - (after.find((a) => a.mount === b.mount)?.used ?? b.used));
    const failed = steps.filter((s) => s.exitCode !== 0);
    return {
      action: `clean: ${cfg.clean.join(', ')}`,
      ok: failed.length === 0,
      detail: `${size(freed)} freed${failed.length ? `; failed: ${failed.map((s) => `\`${s.command}\` ${s.exitCode === null ? s.stderr : `exited ${s.exitCode}${s.stderr ? `: ${s.stderr}` : ''}`}`).join('; ')}` : ''}`,
      freedBytes: freed,
      steps,
    };
  },
};
