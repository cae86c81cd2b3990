import type { VsshClient } from '@meshpop/vssh/client';
import { z } from 'zod';
import { isMpopError, MpopError } from '../../errors.js';
import { fanout } from '../../fanout/run.js';
import { absent, type Absent } from '../../facts/tool.js';
import { checkQuery, readOnce, type LogsValue } from '../../logs/fetch.js';
import { byTime, LEVELS, type LogEntry } from '../../logs/parse.js';
import { dmesgReader, filesToProbe, parseSince, planLogs, type LogQuery } from '../../logs/plan.js';
import { probeNode } from '../../logs/probe.js';
import { entryText } from '../../logs/render.js';
import { parseLogSource, type LogSource } from '../../logs/source.js';
import type { ToolDef } from '../tool.js';
import { absentSchema, fleetTool } from './fleet-tool.js';

/** MESSAGE_CHARS caps one entry's message in a result (a runaway line must not fill an agent's context). */
const MESSAGE_CHARS = 2000;
/** COUNT_CAP is how many matching entries a node sends back to be counted (search, journal errors). */
const COUNT_CAP = 2000;

const entry = z.object({
  time: z.string().optional(),
  unit: z.string().optional(),
  priority: z.number().optional(),
  message: z.string(),
  file: z.string().optional(),
  identifier: z.string().optional(),
  pid: z.number().optional(),
  stream: z.enum(['stdout', 'stderr']).optional(),
});

const cutEntry = (e: LogEntry): LogEntry => (e.message.length > MESSAGE_CHARS ? { ...e, message: `${e.message.slice(0, MESSAGE_CHARS)}... [${e.message.length} chars, cut]` } : e);

const since = z.string().min(1).max(40).optional();
const sinceField = since.describe('only entries since then: a span back from each node\'s clock (30m, 1h, 2d) or a moment (2026-12-02T06:00:00Z, @1764655200)');
const untilField = since.describe('only entries until then, in the same forms as since');
const grepFields = {
  fixedStrings: z.boolean().optional().describe('the pattern is a plain string, not a regular expression'),
  ignoreCase: z.boolean().optional().describe('the pattern ignores case'),
};
const levelField = z.enum(LEVELS).optional();

/** untilOf reads until as parseSince reads since, its error naming until. */
function untilOf(text: string): NonNullable<LogQuery['until']> {
  try {
    return parseSince(text);
  } catch {
    throw new MpopError('MPOP_USAGE', `until "${text}" is neither a span (30m, 1h, 2d) nor a moment (2026-12-02T06:00:00Z, @1764655200)`);
  }
}

/** query builds a LogQuery from a tool's arguments (bad spans and patterns are MPOP_USAGE). */
function query(a: { lines?: number; since?: string; until?: string; grep?: string; fixedStrings?: boolean; ignoreCase?: boolean; priority?: (typeof LEVELS)[number] }, lines: number): LogQuery {
  const q: LogQuery = {
    lines,
    ...(a.since ? { since: parseSince(a.since) } : {}),
    ...(a.until ? { until: untilOf(a.until) } : {}),
    ...(a.grep !== undefined ? { grep: a.grep } : {}),
    ...(a.fixedStrings ? { fixed: true } : {}),
    ...(a.ignoreCase ? { ignoreCase: true } : {}),
    ...(a.priority ? { priority: LEVELS.indexOf(a.priority) } : {}),
  };
  checkQuery(q);
  return q;
}

/**
 * readNode reads `source` on one node as `mpop logs` does (a probe, then its readers). A source the node
 * does not have (no journald for a unit, no such file, no docker) is an Absent saying what is missing; a
 * reader that fails is the node's failure.
 */
async function readNode(client: VsshClient, source: LogSource, q: LogQuery, signal: AbortSignal): Promise<LogsValue | Absent> {
  const node = client.target.name;
  const facts = await probeNode(client, filesToProbe(source), signal);
  let plan;
  try {
    plan = planLogs(node, source, q, facts);
  } catch (err) {
    if (isMpopError(err, 'MPOP_REMOTE')) return absent(err.message);
    throw err;
  }
  const parts = await Promise.all(plan.readers.map((r) => readOnce(node, client, r, q, facts, signal)));
  const entries = plan.readers.length > 1 ? byTime(parts.flatMap((p) => p.entries)) : parts[0]!.entries;
  return { sources: plan.readers.map((r) => r.label), entries, notes: [...plan.notes, ...parts.flatMap((p) => p.notes)] };
}

const logsValue = z.union([z.object({ present: z.literal(true), sources: z.array(z.string()), entries: z.array(entry), notes: z.array(z.string()) }), absentSchema]);
type Value = z.infer<typeof logsValue>;

const renderEntries = (entries: LogEntry[]): string => entries.map((e) => entryText(e)).join('\n');

/** allAbsent turns a read where no node had the subject into an error result that says so. */
function allAbsent(base: ToolDef, what: string): ToolDef {
  return {
    ...base,
    async run(args, ctx) {
      const r = await base.run(args, ctx);
      const nodes = (r.data as { nodes: { value?: { present?: boolean } }[] }).nodes;
      const none = nodes.length > 0 && nodes.every((n) => n.value?.present === false);
      return none ? { ...r, text: `${r.text}\nNo node of the target has ${what}.`, isError: true } : r;
    },
  };
}

const logsBase = fleetTool({
  name: 'mpop_logs',
  title: 'Read logs',
  description:
    'The last lines of one log source on each node of the target, as `mpop logs` reads it: system (journald; /var/log/syslog or /var/log/messages without a journal), auth, kernel (journalctl -k; dmesg), nginx, a systemd unit (ssh.service or unit:NAME), an absolute file path, or container:NAME (docker:NAME, podman:NAME). ' +
    'Entries are typed (time, unit, priority, message) in time order per node; each node says which source it read, and a node without the source (no journald for a unit, no such file, no docker) says so. Identical outputs of several nodes are folded in the text. ' +
    'There is no follow over MCP (a call must end): to see what came later, call again with since set to the time of the last entry you saw.',
  toolset: 'logs',
  input: {
    source: z.string().min(1).max(300).describe('system, auth, kernel, nginx, a unit (ssh.service, unit:NAME), an absolute file path, or container:NAME'),
    since: sinceField,
    until: untilField,
    lines: z.number().int().min(1).max(1000).optional().describe('the last N entries per node (default 100, at most 1000)'),
    grep: z.string().min(1).max(500).optional().describe('only entries matching this extended regular expression (grep -E on the node; PCRE2 for the journal)'),
    ...grepFields,
    priority: levelField.describe('only entries at this syslog level or worse (err means err, crit, alert, emerg); journald and dmesg choose by it, files by the level a line names'),
  },
  value: logsValue,
  gather: (pool, nodes, a, opts) => {
    const source = parseLogSource(a.source);
    const q = query(a, a.lines ?? 100);
    return fanout<Value>(pool, nodes, async ({ client, signal }) => {
      const v = await readNode(client, source, q, signal);
      return 'present' in v ? v : { present: true, ...v, entries: v.entries.map(cutEntry) };
    }, opts);
  },
  render: (v) => (v.present ? [`[${v.sources.join(', ')}] ${v.entries.length} entries`, renderEntries(v.entries), ...v.notes.map((n) => `note: ${n}`)].filter(Boolean).join('\n') : v.reason),
});
const logs = allAbsent(logsBase, 'that log source');

const searchValue = z.union([
  z.object({ present: z.literal(true), sources: z.array(z.string()), count: z.number(), capped: z.boolean(), entries: z.array(entry), notes: z.array(z.string()) }),
  absentSchema,
]);
type SearchValue = z.infer<typeof searchValue>;

const searchBase = fleetTool({
  name: 'mpop_log_search',
  title: 'Search logs across nodes',
  description:
    `Searches one log source (default system) on every node of the target for a pattern: which nodes matched, how many entries each (counted up to ${COUNT_CAP}; capped says when there were more), and the last matching lines. ` +
    'The pattern runs on the node (grep -E, journalctl --grep), so only matches cross the network. since narrows to a window. A node without the source says so.',
  toolset: 'logs',
  defaultAll: true,
  input: {
    pattern: z.string().min(1).max(500).describe('an extended regular expression (or, with fixedStrings, a plain string) to look for'),
    source: z.string().min(1).max(300).optional().describe('the log source to search, as mpop_logs takes it (default system)'),
    since: sinceField,
    ...grepFields,
    lines: z.number().int().min(1).max(200).optional().describe('matching lines shown per node, the newest (default 20)'),
  },
  value: searchValue,
  gather: (pool, nodes, a, opts) => {
    const source = parseLogSource(a.source ?? 'system');
    const q = query({ ...a, grep: a.pattern }, COUNT_CAP);
    const show = a.lines ?? 20;
    return fanout<SearchValue>(pool, nodes, async ({ client, signal }) => {
      const v = await readNode(client, source, q, signal);
      if ('present' in v) return v;
      return { present: true, sources: v.sources, count: v.entries.length, capped: v.entries.length >= COUNT_CAP, entries: v.entries.slice(-show).map(cutEntry), notes: v.notes };
    }, opts);
  },
  render: (v) => (v.present ? (v.count ? [`${v.count}${v.capped ? '+' : ''} matches in ${v.sources.join(', ')}`, renderEntries(v.entries)].join('\n') : `no match in ${v.sources.join(', ')}`) : v.reason),
});

/** logSearch adds which nodes matched and the total to the fan-out; nothing matched anywhere is an error result that says what to try. */
const logSearch: ToolDef = {
  ...searchBase,
  output: { ...searchBase.output, matched: z.array(z.string()), total: z.number() },
  async run(args, ctx) {
    const r = await searchBase.run(args, ctx);
    const nodes = (r.data as { nodes: { node: string; value?: SearchValue }[] }).nodes;
    const matched = nodes.filter((n) => n.value?.present && n.value.count > 0).map((n) => n.node);
    const total = nodes.reduce((t, n) => t + (n.value?.present ? n.value.count : 0), 0);
    const head = matched.length ? `${total} matches on ${matched.length} of ${nodes.length} nodes: ${matched.join(', ')}` : `no node matched "${String(args.pattern)}": widen since, try another source (mpop_logs lists what a node has), or loosen the pattern (ignoreCase)`;
    return { data: { ...r.data, matched, total }, text: `${head}\n${r.text}`, isError: r.isError || matched.length === 0 };
  },
};

const errorsValue = z.union([
  z.object({ present: z.literal(true), count: z.number(), capped: z.boolean(), byUnit: z.array(z.object({ unit: z.string(), count: z.number() })), last: z.array(entry) }),
  absentSchema,
]);
type ErrorsValue = z.infer<typeof errorsValue>;

const journalErrorsBase = fleetTool({
  name: 'mpop_journal_errors',
  title: 'Journal errors',
  description:
    `Entries of priority err or worse (err, crit, alert, emerg) in each node's systemd journal over a window (default the last hour): counted (up to ${COUNT_CAP}), counted per unit, and the last lines. ` +
    'A node without journald says so (its classic files are read by mpop_logs with priority).',
  toolset: 'logs',
  defaultAll: true,
  input: {
    since: since.describe('the window: a span back from each node\'s clock (default 1h; 30m, 2d) or a moment (2026-12-02T06:00:00Z)'),
    lines: z.number().int().min(1).max(200).optional().describe('the last error lines shown per node (default 10)'),
  },
  value: errorsValue,
  gather: (pool, nodes, a, opts) => {
    const q = query({ since: a.since ?? '1h', priority: 'err' }, COUNT_CAP);
    const show = a.lines ?? 10;
    return fanout<ErrorsValue>(pool, nodes, async ({ client, signal }) => {
      const node = client.target.name;
      const facts = await probeNode(client, [], signal);
      if (!facts.journal) return absent(`no systemd journal on ${node} (journald is not running there${facts.tools.has('journalctl') ? '' : ', and there is no journalctl'}), so it has no journal errors to count`);
      const reader = planLogs(node, { kind: 'system', spec: 'system' }, q, facts).readers[0]!;
      const { entries } = await readOnce(node, client, reader, q, facts, signal);
      const per = new Map<string, number>();
      for (const e of entries) per.set(e.unit ?? '?', (per.get(e.unit ?? '?') ?? 0) + 1);
      const byUnit = [...per].map(([unit, count]) => ({ unit, count })).sort((x, y) => y.count - x.count || x.unit.localeCompare(y.unit));
      return { present: true, count: entries.length, capped: entries.length >= COUNT_CAP, byUnit, last: entries.slice(-show).map(cutEntry) };
    }, opts);
  },
  render: (v) => (v.present ? (v.count ? [`${v.count}${v.capped ? '+' : ''} errors (${v.byUnit.slice(0, 5).map((u) => `${u.unit}: ${u.count}`).join(', ')})`, renderEntries(v.last)].join('\n') : 'no errors') : v.reason),
});
const journalErrors = allAbsent(journalErrorsBase, 'a systemd journal');

const NO_PERMISSION = /not permitted|permission denied/i;

const dmesgBase = fleetTool({
  name: 'mpop_dmesg',
  title: 'Kernel ring buffer',
  description:
    'The last lines of each node\'s kernel ring buffer (dmesg -x, ISO times), typed with facility and level; level keeps that level and worse (dmesg --level), grep a pattern (on the node). ' +
    'A node without dmesg, or whose vssh daemon may not read the buffer (kernel.dmesg_restrict), says so. For the kernel\'s messages kept in the journal across boots, use mpop_logs with source kernel.',
  toolset: 'logs',
  defaultAll: true,
  input: {
    level: levelField.describe('only messages at this level or worse (err means err, crit, alert, emerg)'),
    since: sinceField,
    grep: z.string().min(1).max(500).optional().describe('only lines matching this extended regular expression (grep -E on the node)'),
    ...grepFields,
    lines: z.number().int().min(1).max(1000).optional().describe('the last N lines per node (default 100)'),
  },
  value: logsValue,
  gather: (pool, nodes, a, opts) => {
    const q = query({ ...a, ...(a.level ? { priority: a.level } : {}) }, a.lines ?? 100);
    return fanout<Value>(pool, nodes, async ({ client, signal }) => {
      const node = client.target.name;
      const facts = await probeNode(client, [], signal);
      if (!facts.tools.has('dmesg')) return absent(`no dmesg on ${node}`);
      const reader = dmesgReader(q);
      try {
        const r = await readOnce(node, client, reader, q, facts, signal);
        return { present: true, sources: ['dmesg'], entries: r.entries.map(cutEntry), notes: r.notes };
      } catch (err) {
        if (err instanceof MpopError && NO_PERMISSION.test(err.message)) return absent(`${node} does not let its vssh daemon's user read the kernel ring buffer (${err.message.replace(/^.*?: /, '')}); kernel.dmesg_restrict allows it to root only`);
        throw err;
      }
    }, opts);
  },
  render: (v) => (v.present ? [`${v.entries.length} lines`, renderEntries(v.entries), ...v.notes.map((n) => `note: ${n}`)].filter(Boolean).join('\n') : v.reason),
});
const dmesg = allAbsent(dmesgBase, 'a readable kernel ring buffer');

/** logTools: mpop_logs, mpop_log_search, mpop_journal_errors, mpop_dmesg (toolset logs). */
export const logTools: ToolDef[] = [logs, logSearch, journalErrors, dmesg];
