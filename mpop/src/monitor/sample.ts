import type { Pool, SysInfo, VsshClient } from '@meshpop/vssh';
import { fanout, type FanoutOptions } from '../fanout/run.js';
import type { ErrorInfo } from '../errors.js';

/** DiskSample is one mount at one sample; inodesPct is null where df -i could not say. */
export interface DiskSample {
  mount: string;
  usePct: number;
  used: number;
  total: number;
  inodesPct: number | null;
}

/** NodeSample is one node at one moment: its readings when it answered, else `up: false` and why. */
export interface NodeSample {
  node: string;
  /** ms since the epoch (the controller's clock) */
  t: number;
  up: boolean;
  cpu: number | null;
  load: [number, number, number] | null;
  cores: number | null;
  memTotal: number | null;
  memUsed: number | null;
  memAvail: number | null;
  swapTotal: number | null;
  swapUsed: number | null;
  /** bytes received / sent on every interface but lo since boot (counters), null where /proc/net/dev is absent */
  netRx: number | null;
  netTx: number | null;
  /** the sysinfo round trip */
  rttMs: number | null;
  disks: DiskSample[];
  error?: ErrorInfo;
}

/** EXTRAS_ARGV reads what sysinfo does not carry, in one exec: inode use per mount and the interfaces' byte counters. */
export const EXTRAS_ARGV = ['sh', '-c', 'df -P -i 2>/dev/null; echo "--- net"; cat /proc/net/dev 2>/dev/null; exit 0'];

/** parseDfInodes reads `df -P -i` into mount -> inode use % (lines whose IUse% is "-" are left out). */
export function parseDfInodes(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const m = /^(\d+)%$/.exec(f[4]!);
    if (m) out.set(f.slice(5).join(' '), Number(m[1]));
  }
  return out;
}

/** parseNetDev sums `/proc/net/dev`'s receive and transmit byte counters over every interface but lo. */
export function parseNetDev(text: string): { rx: number; tx: number } | null {
  let rx = 0, tx = 0, seen = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    if (f.length < 9 || f.some((x) => !Number.isFinite(x))) continue;
    rx += f[0]!;
    tx += f[8]!;
    seen++;
  }
  return seen ? { rx, tx } : null;
}

/** sampleOf turns one sysinfo (and the extras' output, when read) into a NodeSample. */
export function sampleOf(node: string, t: number, info: SysInfo, rttMs: number, extras?: string): NodeSample {
  const [dfPart = '', netPart = ''] = (extras ?? '').split('--- net\n');
  const inodes = parseDfInodes(dfPart);
  const net = extras ? parseNetDev(netPart) : null;
  const m = info.memory;
  return {
    node,
    t,
    up: true,
    cpu: info.cpu.usagePercent,
    load: info.load,
    cores: info.cpu.count || null,
    memTotal: m.totalBytes,
    memUsed: m.usedBytes,
    memAvail: m.availableBytes,
    swapTotal: m.swapTotalBytes,
    swapUsed: m.swapTotalBytes !== null && m.swapFreeBytes !== null ? m.swapTotalBytes - m.swapFreeBytes : null,
    netRx: net?.rx ?? null,
    netTx: net?.tx ?? null,
    rttMs,
    disks: info.disks.map((d) => ({ mount: d.mount, usePct: d.usePercent, used: d.usedBytes, total: d.totalBytes, inodesPct: inodes.get(d.mount) ?? null })),
  };
}

/** downSample is a node that did not answer this round. */
export function downSample(node: string, t: number, error: ErrorInfo | undefined): NodeSample {
  return { node, t, up: false, cpu: null, load: null, cores: null, memTotal: null, memUsed: null, memAvail: null, swapTotal: null, swapUsed: null, netRx: null, netTx: null, rttMs: null, disks: [], ...(error ? { error } : {}) };
}

/** readNode takes one sample of a node: a sysinfo (timed) and, alongside, the extras exec (its failure only leaves inodes and net null). */
export async function readNode(client: VsshClient, node: string, t: number, signal?: AbortSignal): Promise<NodeSample> {
  const extras = client.exec({ argv: EXTRAS_ARGV }, { timeoutMs: 10_000, maxOutputBytes: 1 << 20, ...(signal ? { signal } : {}) }).then((r) => r.stdout.toString('utf8'), () => undefined);
  const t0 = performance.now();
  const info = await client.sysinfo();
  const rtt = performance.now() - t0;
  return sampleOf(node, t, info, Math.round(rtt * 10) / 10, await extras);
}

/** sampleRound samples every node once (fan-out); a node that does not answer is a down sample with its error. */
export async function sampleRound(pool: Pool, nodes: string[], opts: FanoutOptions = {}): Promise<NodeSample[]> {
  const t = Date.now();
  const run = await fanout(pool, nodes, ({ node, client, signal }) => readNode(client, node, t, signal), { timeoutMs: 20_000, ...opts });
  return run.results.map((r) => (r.outcome === 'ok' && r.value ? r.value : downSample(r.node, t, r.error)));
}
