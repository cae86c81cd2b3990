import { z } from 'zod';
import { fanout } from '../../fanout/run.js';
import { diffNodes, DIFF_SUBJECTS } from '../../facts/diff.js';
import { fleetGpus, fleetPorts, fleetProcs, fleetServices, fleetTemps } from '../../facts/fleet.js';
import { fleetHardware } from '../../facts/hw.js';
import { nodeInfo } from '../../facts/info.js';
import { meshMatrix } from '../../facts/matrix.js';
import { fleetStatus } from '../../facts/status.js';
import { MpopError } from '../../errors.js';
import { execFleet } from '../../exec.js';
import { defineTool, READ, type ToolDef } from '../tool.js';
import { absentSchema, fleetTool } from './fleet-tool.js';
import { targetField } from './exec.js';

const level = z.enum(['ok', 'warn', 'crit']);
const statusRow = z.object({
  hostname: z.string(),
  load: z.tuple([z.number(), z.number(), z.number()]),
  cores: z.number(),
  cpuPercent: z.number().nullable(),
  memory: z.object({ usedBytes: z.number(), totalBytes: z.number(), percent: z.number() }),
  worstDisk: z.object({ mount: z.string(), usePercent: z.number(), availableBytes: z.number() }).nullable(),
  uptimeS: z.number(),
  failedUnits: z.array(z.string()).nullable(),
  rttMs: z.number(),
  levels: z.object({ cpu: level, memory: level, disk: level, load: level }),
  notes: z.array(z.string()),
});
const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
const pct = (n: number | null): string => (n === null ? '?' : `${Math.round(n)}%`);

const status = fleetTool({
  name: 'mpop_status',
  title: 'Fleet status',
  description: 'One reading per node, taken at once: load, CPU, memory, the fullest disk, uptime, failed systemd units, and the vssh round trip, each judged ok/warn/crit. A node that does not answer is unreachable with the reason. The first tool to call when something seems wrong.',
  toolset: 'core',
  defaultAll: true,
  value: statusRow,
  gather: (pool, nodes, _a, opts) => fleetStatus(pool, nodes, opts),
  render: (v) => `load ${v.load[0]} (${v.cores} cores) cpu ${pct(v.cpuPercent)} mem ${pct(v.memory.percent)} disk ${v.worstDisk ? `${v.worstDisk.mount} ${pct(v.worstDisk.usePercent)}` : '?'} up ${Math.round(v.uptimeS / 3600)}h${v.failedUnits?.length ? ` failed units: ${v.failedUnits.join(', ')}` : ''} rtt ${v.rttMs} ms`,
});

const hardware = z.object({
  hostname: z.string(),
  platform: z.string(),
  arch: z.string(),
  kernel: z.string(),
  cpu: z.object({ model: z.string().nullable(), count: z.number() }),
  memory: z.object({ totalBytes: z.number(), swapTotalBytes: z.number().nullable() }),
  disks: z.array(z.object({ mount: z.string(), fs: z.string(), device: z.string(), totalBytes: z.number(), usePercent: z.number() })),
  gpus: z.array(z.object({ index: z.number(), name: z.string(), memoryTotalBytes: z.number().nullable() })),
  notes: z.array(z.string()),
});
const hw = fleetTool({
  name: 'mpop_hw',
  title: 'Hardware',
  description: 'What each node is: CPU model and count, memory, disks, NVIDIA GPUs, kernel, architecture.',
  toolset: 'monitoring',
  defaultAll: true,
  value: hardware,
  gather: (pool, nodes, _a, opts) => fleetHardware(pool, nodes, opts),
  render: (v) => `${v.cpu.count}x ${v.cpu.model ?? 'CPU'}, ${gib(v.memory.totalBytes)}, ${v.arch}, ${v.kernel.split(' ')[0]}${v.gpus.length ? `, ${v.gpus.length} GPU` : ''}`,
});

const gpu = z.object({ index: z.number(), uuid: z.string(), busId: z.string(), driver: z.string(), name: z.string(), memoryTotalBytes: z.number().nullable(), memoryUsedBytes: z.number().nullable(), utilizationPercent: z.number().nullable(), memoryUtilizationPercent: z.number().nullable(), temperatureC: z.number().nullable(), powerW: z.number().nullable(), powerLimitW: z.number().nullable(), fanPercent: z.number().nullable() });
const gpus = fleetTool({
  name: 'mpop_gpu',
  title: 'GPUs',
  description: 'NVIDIA GPUs per node from nvidia-smi: utilization, memory, temperature, power. A node without a GPU or driver says so plainly (present: false, with the reason).',
  toolset: 'monitoring',
  defaultAll: true,
  value: z.union([z.object({ present: z.literal(true), gpus: z.array(gpu) }), absentSchema]),
  gather: (pool, nodes, _a, opts) => fleetGpus(pool, nodes, opts),
  render: (v) => (v.present ? v.gpus.map((g) => `#${g.index} ${g.name} util ${pct(g.utilizationPercent)} mem ${g.memoryUsedBytes !== null && g.memoryTotalBytes ? pct((100 * g.memoryUsedBytes) / g.memoryTotalBytes) : '?'} ${g.temperatureC ?? '?'}°C`).join('; ') : v.reason),
});

const reading = z.object({ chip: z.string(), adapter: z.string().nullable(), label: z.string(), kind: z.string(), input: z.number().nullable(), min: z.number().nullable(), max: z.number().nullable(), crit: z.number().nullable(), alarm: z.boolean() });
const temps = fleetTool({
  name: 'mpop_temp',
  title: 'Temperatures and sensors',
  description: 'Sensors per node from lm-sensors (sensors -j), or /sys/class/thermal when lm-sensors is absent; a node with neither says so.',
  toolset: 'monitoring',
  defaultAll: true,
  value: z.union([z.object({ present: z.literal(true), source: z.enum(['sensors', 'thermal']), readings: z.array(reading) }), absentSchema]),
  gather: (pool, nodes, _a, opts) => fleetTemps(pool, nodes, opts),
  render: (v) => (v.present ? v.readings.filter((r) => r.kind === 'temp').map((r) => `${r.label} ${r.input ?? '?'}°C${r.alarm ? ' ALARM' : ''}`).join(', ') || 'no temperature readings' : v.reason),
});

const proc = z.object({ pid: z.number(), ppid: z.number(), user: z.string(), cpuPercent: z.number(), memPercent: z.number(), rssBytes: z.number(), elapsedS: z.number(), comm: z.string(), args: z.string() });
const psValue = z.union([z.object({ present: z.literal(true), total: z.number(), matched: z.number(), procs: z.array(proc) }), absentSchema]);
const psRender = (v: z.infer<typeof psValue>): string => (v.present ? `${v.matched}/${v.total} processes\n${v.procs.map((p) => `${p.pid} ${p.user} ${p.cpuPercent}% ${p.memPercent}% ${p.args.slice(0, 120)}`).join('\n')}` : v.reason);
const ps = fleetTool({
  name: 'mpop_ps',
  title: 'Processes',
  description: 'Processes per node (ps), the busiest first: filter with grep, keep the top N, sort by cpu, mem or rss.',
  toolset: 'core',
  defaultAll: true,
  input: {
    grep: z.string().optional().describe('keep processes whose command or arguments contain this text (case-insensitive)'),
    top: z.number().int().min(1).max(1000).optional().describe('keep this many per node (default 30)'),
    sort: z.enum(['cpu', 'mem', 'rss']).optional().describe('order by cpu (default), mem or rss'),
  },
  value: psValue,
  gather: (pool, nodes, a, opts) => fleetProcs(pool, nodes, { top: a.top ?? 30, ...(a.grep ? { grep: a.grep } : {}), ...(a.sort ? { sort: a.sort } : {}) }, opts),
  render: psRender,
});
const top = fleetTool({
  name: 'mpop_top',
  title: 'Top processes',
  description: 'The 10 busiest processes of each node by CPU (or memory with sort: mem): what is eating a machine.',
  toolset: 'monitoring',
  defaultAll: true,
  input: { sort: z.enum(['cpu', 'mem', 'rss']).optional().describe('order by cpu (default), mem or rss') },
  value: psValue,
  gather: (pool, nodes, a, opts) => fleetProcs(pool, nodes, { top: 10, ...(a.sort ? { sort: a.sort } : {}) }, opts),
  render: psRender,
});

const unit = z.object({ unit: z.string(), load: z.string(), active: z.string(), sub: z.string(), description: z.string() });
const unitsValue = z.union([z.object({ present: z.literal(true), units: z.array(unit) }), absentSchema]);
const services = fleetTool({
  name: 'mpop_services',
  title: 'Services',
  description: 'systemd units per node with their state (active / sub-state); failed: true for only the failed ones. A node without systemd (a container, a namespace) says so.',
  toolset: 'core',
  defaultAll: true,
  input: {
    failed: z.boolean().optional().describe('only failed units'),
    pattern: z.string().optional().describe('a unit name glob as systemctl takes it, e.g. "nginx*"'),
    all: z.boolean().optional().describe('also loaded units that are inactive'),
  },
  value: unitsValue,
  gather: (pool, nodes, a, opts) => fleetServices(pool, nodes, { ...(a.failed ? { failed: true } : {}), ...(a.all ? { all: true } : {}), ...(a.pattern ? { patterns: [a.pattern] } : {}) }, opts),
  render: (v) => (v.present ? v.units.map((u) => `${u.unit} ${u.active}/${u.sub}`).join('\n') || 'no matching units' : v.reason),
});
const serviceStatus = fleetTool({
  name: 'mpop_service_status',
  title: 'Service status',
  description: 'One service across nodes: its active and sub-state on each (e.g. nginx: active/running on web1, failed on web2).',
  toolset: 'core',
  defaultAll: true,
  input: { unit: z.string().min(1).describe('the unit, e.g. "nginx" or "nginx.service"') },
  value: unitsValue,
  gather: (pool, nodes, a, opts) => fleetServices(pool, nodes, { all: true, type: 'all', patterns: [a.unit.includes('.') ? a.unit : `${a.unit}.service`] }, opts),
  render: (v) => (v.present ? v.units.map((u) => `${u.unit} ${u.active}/${u.sub}`).join(', ') || 'not installed' : v.reason),
});

const socket = z.object({ proto: z.enum(['tcp', 'udp']), address: z.string(), port: z.number(), processes: z.array(z.object({ name: z.string(), pid: z.number(), fd: z.number() })) });
const ports = fleetTool({
  name: 'mpop_ports',
  title: 'Listening ports',
  description: 'Listening TCP and bound UDP sockets per node (ss), with the owning process where visible.',
  toolset: 'core',
  defaultAll: true,
  value: z.union([z.object({ present: z.literal(true), source: z.enum(['ss', 'sysinfo']), sockets: z.array(socket), note: z.string().optional() }), absentSchema]),
  gather: (pool, nodes, _a, opts) => fleetPorts(pool, nodes, opts),
  render: (v) => (v.present ? v.sockets.map((s) => `${s.proto} ${s.address}:${s.port}${s.processes[0] ? ` ${s.processes[0].name}` : ''}`).join('\n') : v.reason),
});

const disk = z.object({ mount: z.string(), fs: z.string(), device: z.string(), totalBytes: z.number(), usedBytes: z.number(), availableBytes: z.number(), usePercent: z.number() });
const diskTool = fleetTool({
  name: 'mpop_disk',
  title: 'Disk usage',
  description: 'Every mounted filesystem per node: size, used, available, use% (as df shows it).',
  toolset: 'monitoring',
  defaultAll: true,
  value: z.object({ disks: z.array(disk) }),
  gather: (pool, nodes, _a, opts) => fanout(pool, nodes, async ({ client }) => ({ disks: (await client.sysinfo()).disks }), opts),
  render: (v) => v.disks.map((d) => `${d.mount} ${d.usePercent}% of ${gib(d.totalBytes)} (${gib(d.availableBytes)} free)`).join('\n'),
});
const memory = fleetTool({
  name: 'mpop_memory',
  title: 'Memory',
  description: 'Memory and swap per node: total, used, available (bytes).',
  toolset: 'monitoring',
  defaultAll: true,
  value: z.object({ totalBytes: z.number(), availableBytes: z.number(), usedBytes: z.number(), swapTotalBytes: z.number().nullable(), swapFreeBytes: z.number().nullable() }),
  gather: (pool, nodes, _a, opts) => fanout(pool, nodes, async ({ client }) => (await client.sysinfo()).memory, opts),
  render: (m) => `${gib(m.usedBytes)} used of ${gib(m.totalBytes)}, ${gib(m.availableBytes)} available${m.swapTotalBytes ? `, swap ${gib(m.swapTotalBytes - (m.swapFreeBytes ?? 0))} used` : ''}`,
});
const load = fleetTool({
  name: 'mpop_load',
  title: 'Load',
  description: 'Load averages (1, 5, 15 min), core count and CPU use per node.',
  toolset: 'monitoring',
  defaultAll: true,
  value: z.object({ load: z.tuple([z.number(), z.number(), z.number()]), cores: z.number(), cpuPercent: z.number().nullable() }),
  gather: (pool, nodes, _a, opts) => fanout(pool, nodes, async ({ client }) => {
    const i = await client.sysinfo();
    return { load: i.load, cores: i.cpu.count, cpuPercent: i.cpu.usagePercent };
  }, opts),
  render: (v) => `${v.load.map((l) => l.toFixed(2)).join(' ')} on ${v.cores} cores, cpu ${pct(v.cpuPercent)}`,
});

const serviceRestart = defineTool({
  name: 'mpop_service_restart',
  title: 'Restart a service',
  description: 'systemctl restart UNIT on each node of the target, then reads its state back: ok when it is active again. Destructive (the service goes down for a moment): needs confirmation.',
  toolset: 'core',
  input: { target: targetField, unit: z.string().regex(/^[A-Za-z0-9@._:-]+$/).describe('the unit to restart, e.g. "nginx"'), batch: z.string().regex(/^\d+%?$/).optional().describe('restart in rolling waves of N nodes or N%') },
  output: { unit: z.string(), nodes: z.array(z.object({ node: z.string(), outcome: z.string(), active: z.string().nullable(), error: z.object({ code: z.string(), message: z.string() }).nullable() })) },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  long: true,
  targets: (a) => a.target,
  confirm: (a) => `Restart ${a.unit} on ${a.target}?`,
  async run(a, ctx) {
    const nodes = (await ctx.inventory()).resolve(a.target);
    const run = await execFleet(ctx.pool, nodes, { command: { shell: `systemctl restart -- "$1" && systemctl is-active -- "$1"`.replace(/"\$1"/g, `'${a.unit}'`) }, timeoutMs: 120_000 }, { signal: ctx.signal, ...(a.batch ? { batch: a.batch, stopOnError: true } : {}), onProgress: (p) => ctx.progress({ done: p.done, total: p.total }) });
    const rows = run.results.map((r) => ({ node: r.node, outcome: r.outcome, active: r.value ? r.value.stdout.trim() || null : null, error: r.outcome === 'ok' ? null : { code: r.error?.code ?? 'MPOP_REMOTE', message: (r.value?.stderr.trim() || r.error?.message || r.outcome).slice(0, 500) } }));
    return { data: { unit: a.unit, nodes: rows }, text: rows.map((r) => `${r.node}: ${r.outcome === 'ok' ? `restarted, ${r.active}` : `${r.outcome}: ${r.error?.message}`}`).join('\n'), isError: rows.some((r) => r.outcome !== 'ok') };
  },
});

const info = defineTool({
  name: 'mpop_info',
  title: 'Node details',
  description: 'Everything one node says about itself: inventory entry, vssh hello (version, policy), clock skew against this machine, status, and its full sysinfo (CPU, memory, disks, GPUs, listening ports, failed units).',
  toolset: 'core',
  input: { node: z.string().min(1).describe('one node name (mpop_servers lists them)') },
  output: { info: z.record(z.string(), z.unknown()) },
  annotations: READ,
  targets: (a) => a.node,
  async run({ node }, ctx) {
    const inv = await ctx.inventory();
    const names = inv.resolve(node);
    if (names.length !== 1) throw new MpopError('MPOP_USAGE', `mpop_info takes one node, and "${node}" is ${names.length} (${names.slice(0, 5).join(', ')})`);
    const i = await nodeInfo(ctx.pool, inv.byName.get(names[0]!)!, { signal: ctx.signal });
    return { data: { info: i as unknown as Record<string, unknown> }, text: `${i.node} (${i.hello.host}, vssh ${i.hello.version}) at ${i.address}; clock skew ${i.clockSkewMs} ms; load ${i.status.load.join(' ')}, mem ${pct(i.status.memory.percent)}, ${i.sysinfo.disks.length} filesystems, ${i.sysinfo.gpus.length} GPUs, ${i.sysinfo.listening.length} listening ports${i.hello.policy.length ? `; policy: ${i.hello.policy.join('; ')}` : ''}` };
  },
});

const diff = defineTool({
  name: 'mpop_diff',
  title: 'Compare two nodes',
  description: 'What differs between two nodes: kernel, installed packages, systemd services, listening ports, and (with files) a folder\'s tree by SHA-256. Each subject says same / differ (only on A, only on B, changed) / absent on a side.',
  toolset: 'core',
  input: {
    a: z.string().min(1).describe('the first node'),
    b: z.string().min(1).describe('the second node'),
    subjects: z.array(z.enum(DIFF_SUBJECTS)).optional().describe('which subjects to compare (default all)'),
    files: z.string().optional().describe('also compare this folder\'s files (recursive listing with hashes)'),
  },
  output: { a: z.string(), b: z.string(), differs: z.boolean(), subjects: z.array(z.record(z.string(), z.unknown())) },
  annotations: READ,
  long: true,
  targets: (x) => `${x.a},${x.b}`,
  async run(x, ctx) {
    const inv = await ctx.inventory();
    const [a] = inv.resolve(x.a);
    const [b] = inv.resolve(x.b);
    const d = await diffNodes(ctx.pool, a!, b!, { signal: ctx.signal, ...(x.subjects ? { subjects: x.subjects } : {}), ...(x.files ? { files: x.files } : {}) });
    const text = d.subjects.map((s) => `${s.subject}: ${s.status}${s.status === 'differ' ? ` (only on ${a}: ${s.onlyA.length}, only on ${b}: ${s.onlyB.length}, changed: ${s.differ.length}; e.g. ${[...s.onlyA.slice(0, 3).map((e) => `+${a} ${e.key}`), ...s.onlyB.slice(0, 3).map((e) => `+${b} ${e.key}`), ...s.differ.slice(0, 3).map((e) => `~${e.key}`)].join(', ')})` : ''}${s.reasons ? ` ${Object.values(s.reasons).join('; ')}` : ''}`).join('\n');
    return { data: d as unknown as { a: string; b: string; differs: boolean; subjects: Record<string, unknown>[] }, text };
  },
});

const matrix = defineTool({
  name: 'mpop_matrix',
  title: 'Mesh path matrix',
  description: 'Every node-to-node path among the target\'s nodes: from each node, a TCP connect to every other node\'s vssh address, with latency; a failed path says why. Finds broken or one-way mesh links.',
  toolset: 'core',
  input: { target: targetField.optional().describe('the nodes to check among (default all)'), connectTimeoutMs: z.number().int().min(100).max(30_000).optional().describe('per path (default 6000: one WireGuard handshake retry)') },
  output: { nodes: z.array(z.string()), rows: z.array(z.object({ from: z.string(), outcome: z.string(), method: z.string().nullable(), cells: z.array(z.object({ to: z.string(), ok: z.boolean(), ms: z.number().nullable(), error: z.string().nullable() })) }).passthrough()), counts: z.object({ ok: z.number(), failed: z.number(), untried: z.number() }), durationMs: z.number() },
  annotations: READ,
  long: true,
  targets: (x) => x.target ?? 'all',
  async run(x, ctx) {
    const inv = await ctx.inventory();
    const nodes = inv.nodesOf(x.target ?? 'all');
    const m = await meshMatrix(ctx.pool, nodes, { signal: ctx.signal, ...(x.connectTimeoutMs ? { connectTimeoutMs: x.connectTimeoutMs } : {}) });
    const bad = m.rows.flatMap((r) => (r.outcome !== 'ok' ? [`${r.from}: ${r.error?.message ?? r.outcome}`] : r.cells.filter((c) => !c.ok).map((c) => `${r.from} -> ${c.to}: ${c.error}`)));
    const { targets: _t, ...data } = m;
    return { data: data as never, text: `${m.counts.ok} paths ok, ${m.counts.failed} failed, ${m.counts.untried} untried${bad.length ? '\n' + bad.join('\n') : ''}`, isError: m.counts.failed + m.counts.untried > 0 };
  },
});

/** factTools are the overview, monitoring and process tools over mpop's facts library. */
export const factTools: ToolDef[] = [status, info, diff, matrix, hw, gpus, temps, diskTool, memory, load, top, ps, services, serviceStatus, serviceRestart, ports] as unknown as ToolDef[];
