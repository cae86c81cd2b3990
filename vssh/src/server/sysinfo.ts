import { access, readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { ExecaError, execa } from 'execa';

/**
 * What a daemon reports about its machine, for `vssh status` and mpop's fleet monitor. Every part is
 * read on its own: a missing tool or unreadable file leaves that part null (or an empty list) and says
 * why in `notes`, so one broken source never hides the rest.
 */

/** MemoryInfo is memory in bytes; the swap fields are null when only os.totalmem/freemem could be read. */
export interface MemoryInfo {
  totalBytes: number;
  availableBytes: number;
  usedBytes: number;
  swapTotalBytes: number | null;
  swapFreeBytes: number | null;
}

/** DiskInfo is one mounted filesystem; usePercent is used / (used + available), as df shows it. */
export interface DiskInfo {
  mount: string;
  fs: string;
  device: string;
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  usePercent: number;
}

/** GpuInfo is one NVIDIA GPU; a field nvidia-smi reports as [N/A] or [Not Supported] is null. */
export interface GpuInfo {
  index: number;
  name: string;
  memoryTotalBytes: number | null;
  memoryUsedBytes: number | null;
  utilizationPercent: number | null;
  temperatureC: number | null;
}

/** ListeningPort is one TCP socket in LISTEN state. */
export interface ListeningPort {
  proto: 'tcp' | 'tcp6';
  address: string;
  port: number;
}

/** SysInfo is one reading of a machine, taken at `time` (ISO 8601). */
export interface SysInfo {
  time: string;
  hostname: string;
  kernel: string;
  platform: string;
  arch: string;
  uptimeS: number;
  load: [number, number, number];
  cpu: { model: string | null; count: number; usagePercent: number | null };
  memory: MemoryInfo;
  disks: DiskInfo[];
  gpus: GpuInfo[];
  listening: ListeningPort[];
  /** failedUnits is null when systemd is not running here. */
  failedUnits: string[] | null;
  notes: string[];
}

const TIMEOUT_MS = 5_000;

/** sysinfo reads this machine. It never throws: what cannot be read is null or empty, with a note. */
export async function sysinfo(): Promise<SysInfo> {
  const time = new Date().toISOString();
  const notes: string[] = [];
  const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
  const [usagePercent, memory, disks, gpus, listening, failedUnits] = await Promise.all([
    cpuUsage(notes), memoryInfo(notes), diskInfo(notes), gpuInfo(notes), listeningPorts(notes), failedUnitsOf(notes),
  ]);
  const cpus = os.cpus();
  return {
    time, hostname: os.hostname(), kernel: `${os.release()} ${os.version()}`, platform: os.platform(), arch: os.arch(),
    uptimeS: os.uptime(), load: [load1, load5, load15],
    cpu: { model: cpus[0]?.model.trim() || null, count: cpus.length, usagePercent },
    memory, disks, gpus, listening, failedUnits, notes,
  };
}

async function readText(path: string, notes: string[]): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    notes.push(`cannot read ${path}: ${(err as Error).message}`);
    return null;
  }
}

/** cpuTicks is [busy, total] jiffies from the aggregate "cpu" line of /proc/stat (guest time is already in user). */
function cpuTicks(stat: string): [number, number] | null {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  const t = line?.trim().split(/\s+/).slice(1, 9).map(Number);
  if (!t || t.length < 4 || t.some(Number.isNaN)) return null;
  const total = t.reduce((a, b) => a + b, 0);
  return [total - (t[3] ?? 0) - (t[4] ?? 0), total];
}

async function cpuUsage(notes: string[]): Promise<number | null> {
  const a = await readText('/proc/stat', notes);
  if (a === null) return null;
  await new Promise((r) => setTimeout(r, 100));
  const b = await readText('/proc/stat', notes);
  const [ta, tb] = [cpuTicks(a), b === null ? null : cpuTicks(b)];
  if (!ta || !tb || tb[1] <= ta[1]) {
    if (b !== null) notes.push('cannot measure cpu usage from /proc/stat');
    return null;
  }
  return Math.round((1000 * (tb[0] - ta[0])) / (tb[1] - ta[1])) / 10;
}

async function memoryInfo(notes: string[]): Promise<MemoryInfo> {
  const text = await readText('/proc/meminfo', notes);
  const kb = new Map<string, number>();
  for (const m of text?.matchAll(/^(\w+):\s+(\d+) kB$/gm) ?? []) kb.set(m[1] ?? '', Number(m[2]) * 1024);
  const total = kb.get('MemTotal');
  const available = kb.get('MemAvailable');
  if (total === undefined || available === undefined) {
    if (text !== null) notes.push('/proc/meminfo has no MemTotal/MemAvailable; using os.totalmem/freemem');
    const t = os.totalmem(), f = os.freemem();
    return { totalBytes: t, availableBytes: f, usedBytes: t - f, swapTotalBytes: null, swapFreeBytes: null };
  }
  return {
    totalBytes: total, availableBytes: available, usedBytes: total - available,
    swapTotalBytes: kb.get('SwapTotal') ?? null, swapFreeBytes: kb.get('SwapFree') ?? null,
  };
}

/**
 * DATA_FS are the filesystem types that hold data. A mount is reported when its type is one of these,
 * or it is a tmpfs at / or /tmp (where a full tmpfs breaks the machine); everything else — proc, sysfs,
 * cgroup*, devpts, devtmpfs, squashfs snaps, other tmpfs — is skipped.
 */
const DATA_FS = new Set([
  'ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'bcachefs', 'f2fs', 'jfs', 'reiserfs', 'overlay',
  'vfat', 'exfat', 'ntfs', 'ntfs3', 'fuseblk', 'nfs', 'nfs4', 'cifs', 'smb3', 'ceph', 'glusterfs',
]);

// /proc/self/mounts escapes space, tab, newline and backslash as \ooo octal.
const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

async function diskInfo(notes: string[]): Promise<DiskInfo[]> {
  const text = await readText('/proc/self/mounts', notes);
  const byMount = new Map<string, { device: string; fs: string }>();
  for (const line of text?.split('\n') ?? []) {
    const [device, mount, fs] = line.split(' ');
    // The last mount at a path is the visible one, so it replaces any earlier entry.
    if (device && mount && fs) byMount.set(unescapeMount(mount), { device: unescapeMount(device), fs });
  }
  const wanted = [...byMount].filter(([mount, m]) => DATA_FS.has(m.fs) || (m.fs === 'tmpfs' && (mount === '/' || mount === '/tmp')));
  const disks = await Promise.all(wanted.map(async ([mount, { device, fs }]): Promise<DiskInfo | null> => {
    try {
      const s = await statfs(mount);
      const used = (s.blocks - s.bfree) * s.bsize, available = s.bavail * s.bsize;
      const usePercent = used + available > 0 ? Math.round((1000 * used) / (used + available)) / 10 : 0;
      return { mount, fs, device, totalBytes: s.blocks * s.bsize, usedBytes: used, availableBytes: available, usePercent };
    } catch (err) {
      notes.push(`cannot statfs ${mount}: ${(err as Error).message}`);
      return null;
    }
  }));
  return disks.filter((d): d is DiskInfo => d !== null);
}

const num = (s: string | undefined): number | null => (s === undefined || !/^-?\d+(\.\d+)?$/.test(s.trim()) ? null : Number(s));

/** parseNvidiaSmi reads `nvidia-smi --query-gpu=index,name,memory.total,memory.used,utilization.gpu,temperature.gpu --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of csv.split('\n')) {
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 6) continue;
    const [memTotal, memUsed, util, temp] = f.slice(-4); // the name may itself hold a comma
    const index = num(f[0]);
    if (index === null) continue;
    const mib = (s: string | undefined): number | null => { const n = num(s); return n === null ? null : n * 1024 * 1024; };
    gpus.push({ index, name: f.slice(1, -4).join(', '), memoryTotalBytes: mib(memTotal), memoryUsedBytes: mib(memUsed), utilizationPercent: num(util), temperatureC: num(temp) });
  }
  return gpus;
}

/** failure describes a failed command: execa's short message (command, exit code, signal or timeout) and stderr. */
function failure(err: unknown): string {
  if (!(err instanceof ExecaError)) return String(err);
  const out: unknown = err.stderr;
  const stderr = typeof out === 'string' ? out.trim() : '';
  return stderr ? `${err.shortMessage}: ${stderr}` : err.shortMessage;
}

/** notFound is true when a command could not be started because it is not installed. */
const notFound = (err: unknown): boolean => err instanceof ExecaError && err.code === 'ENOENT';

async function gpuInfo(notes: string[]): Promise<GpuInfo[]> {
  const args = ['--query-gpu=index,name,memory.total,memory.used,utilization.gpu,temperature.gpu', '--format=csv,noheader,nounits'];
  try {
    return parseNvidiaSmi((await execa('nvidia-smi', args, { timeout: TIMEOUT_MS })).stdout);
  } catch (err) {
    if (!notFound(err)) notes.push(failure(err));
    return [];
  }
}

/** decodeAddress turns /proc/net/tcp's hex address into text: IPv4 is one little-endian u32, IPv6 four of them. */
function decodeAddress(hex: string): string | null {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return null;
  const bytes = Buffer.from(hex, 'hex');
  for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(':');
  return new URL(`http://[${groups}]`).hostname.slice(1, -1); // the URL parser writes IPv6 in RFC 5952 short form
}

/** parseProcNetTcp returns the LISTEN (state 0A) sockets in the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseProcNetTcp(text: string, proto: 'tcp' | 'tcp6'): ListeningPort[] {
  const out: ListeningPort[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    const [addr, port] = local?.split(':') ?? [];
    const address = addr === undefined ? null : decodeAddress(addr);
    if (state !== '0A' || address === null || !port) continue;
    out.push({ proto, address, port: parseInt(port, 16) });
  }
  return out;
}

async function listeningPorts(notes: string[]): Promise<ListeningPort[]> {
  const [tcp, tcp6] = await Promise.all([readText('/proc/net/tcp', notes), readText('/proc/net/tcp6', notes)]);
  const all = [...parseProcNetTcp(tcp ?? '', 'tcp'), ...parseProcNetTcp(tcp6 ?? '', 'tcp6')];
  const unique = new Map(all.map((p) => [`${p.proto} ${p.address} ${p.port}`, p]));
  return [...unique.values()].sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto) || a.address.localeCompare(b.address));
}

/** parseFailedUnits returns the unit names in the output of `systemctl --failed --plain --no-legend --no-pager`. */
export function parseFailedUnits(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/^[\s●*]+/, '').split(/\s+/)[0] ?? '').filter((u) => u !== '');
}

async function failedUnitsOf(notes: string[]): Promise<string[] | null> {
  try {
    await access('/run/systemd/system');
  } catch {
    notes.push('systemd is not running');
    return null;
  }
  try {
    return parseFailedUnits((await execa('systemctl', ['--failed', '--plain', '--no-legend', '--no-pager'], { timeout: TIMEOUT_MS })).stdout);
  } catch (err) {
    notes.push(notFound(err) ? 'systemd is not running' : failure(err));
    return null;
  }
}
