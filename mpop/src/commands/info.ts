import { Args, Flags } from '@oclif/core';
import { MpopCommand, duration, paint, size, table } from '../cli/base.js';
import { nodeInfo, type NodeInfo } from '../facts/info.js';

export default class Info extends MpopCommand {
  static override summary = 'Everything one node says about itself: its signed hello (version, policy), its sysinfo, and the inventory\'s view of it.';
  static override description =
    'Asks the node for its hello (name, host, vssh version, policy, TLS fingerprint) and its sysinfo (CPU, memory, disks, ' +
    'GPUs, load, uptime, listening TCP ports, failed units, and notes on what could not be read), and shows where the ' +
    'inventory finds it and its groups. Exit code 4 when the node cannot be reached.';
  static override examples = ['<%= config.bin %> info g2', '<%= config.bin %> info g2 --json'];
  static override args = { node: Args.string({ required: true, description: 'one node' }) };
  static override flags = { inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }) };

  async run(): Promise<NodeInfo> {
    const { args, flags } = await this.parse(Info);
    const inv = await this.inventory(flags.inventory);
    const names = inv.resolve(args.node);
    if (names.length !== 1) this.usage(`mpop info shows one node, and "${args.node}" names ${names.length} (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}); use mpop status for many`);
    const node = inv.byName.get(names[0]!)!;
    // A node that cannot be reached is vssh's own error (VSSH_UNREACHABLE, exit 4), which names the node and why.
    const info = await nodeInfo(this.pool, node, { signal: this.signal() });
    if (!this.jsonEnabled()) this.log(renderInfo(info));
    return info;
  }
}

/** renderInfo writes a node's info as sections of name: value lines. */
export function renderInfo(i: NodeInfo): string {
  const c = paint(process.stdout);
  const s = i.sysinfo;
  const kv = (rows: [string, string][]): string => rows.map(([k, v]) => `  ${c.dim(k.padEnd(12))} ${v}`).join('\n');
  const out: string[] = [];
  out.push(c.bold(c.cyan(i.node)) + c.dim(`  (${i.hello.host}, vssh ${i.hello.version})`));
  out.push(kv([
    ['address', `${i.address ?? '-'} ${c.dim(`rtt ${i.status.rttMs} ms, clock ${i.clockSkewMs >= 0 ? '+' : ''}${i.clockSkewMs} ms`)}`],
    ['inventory', `${i.inventory.source}, id ${i.inventory.id}`],
    ['groups', i.inventory.groups.join(', ') || '-'],
    ['roles', i.inventory.roles.join(', ') || '-'],
    ['policy', i.hello.policy.join('; ') || 'none (everything allowed)'],
    ['tls', i.hello.tlsFingerprint ?? 'off'],
  ]));
  out.push('', c.bold('system'));
  out.push(kv([
    ['hostname', s.hostname],
    ['kernel', `${s.kernel} (${s.platform}/${s.arch})`],
    ['uptime', duration(s.uptimeS * 1000)],
    ['cpu', `${s.cpu.model ?? 'unknown model'} x${s.cpu.count}, ${s.cpu.usagePercent === null ? '-' : `${s.cpu.usagePercent}%`} busy, load ${s.load.map((l) => l.toFixed(2)).join(' ')}`],
    ['memory', `${size(s.memory.usedBytes)} used of ${size(s.memory.totalBytes)} (${i.status.memory.percent}%), ${size(s.memory.availableBytes)} available`],
    ['swap', s.memory.swapTotalBytes === null ? '-' : s.memory.swapTotalBytes === 0 ? 'none' : `${size(s.memory.swapTotalBytes - (s.memory.swapFreeBytes ?? 0))} used of ${size(s.memory.swapTotalBytes)}`],
    ['failed units', s.failedUnits === null ? 'no systemd' : s.failedUnits.length ? c.red(s.failedUnits.join(', ')) : 'none'],
  ]));
  out.push('', c.bold('disks'));
  out.push(s.disks.length ? table(['MOUNT', 'FS', 'DEVICE', 'SIZE', 'USED', 'AVAIL', 'USE%'], s.disks.map((d) => [d.mount, d.fs, d.device, size(d.totalBytes), size(d.usedBytes), size(d.availableBytes), `${d.usePercent}%`])).replace(/^/gm, '  ') : '  none readable');
  out.push('', c.bold('gpus'));
  out.push(s.gpus.length ? table(['#', 'NAME', 'MEMORY', 'UTIL', 'TEMP'], s.gpus.map((g) => [String(g.index), g.name, g.memoryTotalBytes === null ? '-' : `${size(g.memoryUsedBytes ?? 0)} / ${size(g.memoryTotalBytes)}`, g.utilizationPercent === null ? '-' : `${g.utilizationPercent}%`, g.temperatureC === null ? '-' : `${g.temperatureC}°C`])).replace(/^/gm, '  ') : `  no NVIDIA GPU seen on ${i.node}`);
  out.push('', c.bold('listening (tcp)'));
  const shown = s.listening.slice(0, 24).map((p) => `${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}`);
  out.push(shown.length ? '  ' + shown.join('  ') + (s.listening.length > shown.length ? c.dim(`  ... and ${s.listening.length - shown.length} more (mpop ports ${i.node})`) : '') : '  none');
  if (s.notes.length) out.push('', c.bold('notes'), ...s.notes.map((n) => `  ${c.yellow(n)}`));
  return out.join('\n');
}
