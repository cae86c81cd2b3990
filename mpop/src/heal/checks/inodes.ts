import type { HealCheck } from '../check.js';
import { unknown } from '../check.js';
import { readDf } from '../df.js';

/** inodes: a filesystem with more than thresholds.inodes % of its inodes used is a problem (diagnosis only: what to delete is yours to say). */
export const inodes: HealCheck = {
  name: 'inodes',
  describe: 'inodes: a filesystem above thresholds.inodes % of its inodes used',
  async run(ctx) {
    const rows = await readDf(ctx);
    if (rows === 'missing') return unknown(`no GNU df on ${ctx.node}, so its inodes cannot be read`);
    const counted = rows.filter((r) => r.inodesPct !== null);
    if (!counted.length) return unknown(`no filesystem on ${ctx.node} reports inode counts${rows.length ? ` (${rows.map((r) => r.fs).join(', ')})` : ''}`);
    const limit = ctx.config.thresholds.inodes;
    const evidence = { threshold: limit, mounts: counted.map((r) => ({ mount: r.mount, inodes: r.inodes, used: r.inodesUsed, pct: r.inodesPct })) };
    const full = counted.filter((r) => r.inodesPct! > limit);
    if (full.length) return { status: 'problem', diagnosis: `${full.map((r) => `${r.mount} has ${r.inodesPct}% of its ${r.inodes} inodes used`).join('; ')} (limit ${limit}%): many small files; find them with \`find MOUNT -xdev -type f | cut -d/ -f2-3 | sort | uniq -c | sort -n\``, evidence };
    return { status: 'ok', diagnosis: `${counted.length} filesystem(s) below ${limit}% of their inodes`, evidence };
  },
};
