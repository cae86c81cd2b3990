import { MpopError } from '../errors.js';
import type { HealContext } from './check.js';
import { firstLine } from './remote.js';

/** DfRow is one filesystem as `df` shows it (bytes; the percentages null where df prints "-"). */
export interface DfRow {
  mount: string;
  fs: string;
  size: number;
  used: number;
  avail: number;
  usePct: number | null;
  inodes: number | null;
  inodesUsed: number | null;
  inodesPct: number | null;
}

/** DF_FIELDS puts the mount last, since it may hold spaces. */
const DF_FIELDS = 'fstype,size,used,avail,pcent,itotal,iused,ipcent,target';
/** PSEUDO_FS are left out when no mounts are configured: they hold no data a cleaner could free. */
const PSEUDO_FS = ['devtmpfs', 'squashfs', 'efivarfs', 'proc', 'sysfs', 'cgroup2', 'overlay'];
/**
 * SYSTEM_DIRS hold the system's own tmpfs mounts (/run, /run/credentials/* which are read-only and always 100%,
 * /dev/shm, /sys/fs/cgroup): not what a user means by a disk. A tmpfs anywhere else (a data folder, /tmp) is one.
 */
const SYSTEM_DIRS = ['/run', '/dev', '/sys', '/proc'];

/** dfArgv is the df command for these mounts (or every real filesystem). */
export const dfArgv = (mounts: string[] | null): string[] => ['df', '-B1', `--output=${DF_FIELDS}`, ...(mounts ? ['--', ...mounts] : PSEUDO_FS.flatMap((f) => ['-x', f]))];

/**
 * isDataDisk tells whether a row counts when no mounts are configured: every filesystem df lists past dfArgv's
 * exclusions, but a tmpfs only outside SYSTEM_DIRS (a tmpfs mounted where an app keeps its data fills up as a
 * disk does).
 */
export const isDataDisk = (row: Pick<DfRow, 'fs' | 'mount'>): boolean =>
  row.fs !== 'tmpfs' || !SYSTEM_DIRS.some((d) => row.mount === d || row.mount.startsWith(`${d}/`));

const pct = (s: string): number | null => (/^\d+%$/.test(s) ? Number(s.slice(0, -1)) : null);
const num = (s: string): number | null => (/^\d+$/.test(s) ? Number(s) : null);

/** parseDf reads `df -B1 --output=fstype,size,used,avail,pcent,itotal,iused,ipcent,target` (the header skipped). */
export function parseDf(text: string): DfRow[] {
  const rows: DfRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9) continue;
    const [fs, size, used, avail, usePct, inodes, iused, ipct] = f;
    if (num(size!) === null) continue;
    rows.push({ mount: f.slice(8).join(' '), fs: fs!, size: num(size!)!, used: num(used!) ?? 0, avail: num(avail!) ?? 0, usePct: pct(usePct!), inodes: num(inodes!), inodesUsed: num(iused!), inodesPct: pct(ipct!) });
  }
  return rows;
}

/** readDf asks the node's df about the configured mounts (deduplicated); 'missing' without a GNU df; an error names what df said. */
export async function readDf(ctx: HealContext): Promise<DfRow[] | 'missing'> {
  const r = await ctx.run(dfArgv(ctx.config.disk.mounts));
  if (r === 'missing') return 'missing';
  const rows = parseDf(r.stdout);
  if (r.exitCode !== 0 && (!rows.length || /unrecognized option|invalid option/.test(r.stderr))) {
    if (/unrecognized option|invalid option/.test(r.stderr)) return 'missing';
    throw new MpopError('MPOP_REMOTE', `df on ${ctx.node} exited ${r.exitCode}: ${firstLine(r.stderr)}`);
  }
  const seen = new Set<string>();
  const configured = ctx.config.disk.mounts !== null;
  return rows.filter((row) => (configured || isDataDisk(row)) && !seen.has(row.mount) && seen.add(row.mount));
}
