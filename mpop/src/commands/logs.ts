import { Args, Flags } from '@oclif/core';
import { MpopCommand, paint, parseDuration } from '../cli/base.js';
import type { NodeOutcome } from '../fanout/run.js';
import { logsFleet, type LogsValue } from '../logs/fetch.js';
import { followFleet } from '../logs/follow.js';
import { parseSince, type LogQuery } from '../logs/plan.js';
import { entryText } from '../logs/render.js';
import { parseLogSource } from '../logs/source.js';
import { recordRun } from '../runs.js';

export default class Logs extends MpopCommand {
  static override summary = 'Read or follow logs on many nodes: journald, the classic files, dmesg, a unit, a file, a container.';
  static override description =
    'SOURCE is system (journald; /var/log/syslog or /var/log/messages where there is no journal), auth (journald\'s ' +
    'auth and authpriv; /var/log/auth.log or /var/log/secure), kernel (journalctl -k; dmesg), nginx ' +
    '(/var/log/nginx/access.log and error.log, merged in time order), a systemd unit (ssh.service, or unit:NAME), an ' +
    'absolute file path, or container:NAME (docker:NAME, podman:NAME). Each node says which source it read. ' +
    'Only the last --lines lines cross the network: files are read with tail -n and grep on the node. --since on a ' +
    'file works where its lines carry a timestamp mpop can read (RFC 3339, classic syslog, nginx); otherwise the node ' +
    'says so. --follow streams from every node at once until Ctrl-C, which stops the readers on the nodes; a node that ' +
    'drops is said and the others go on. Output: lines prefixed by their node, in time order per node; stderr carries ' +
    'the notes and the failures. Exit code: 0 when every node was read, 1 when any was not, 2 for a usage error, 3 when ' +
    'the target matches nothing.';
  static override examples = [
    '<%= config.bin %> logs g2 system --since 1h --grep error',
    '<%= config.bin %> logs g2 system --follow',
    '<%= config.bin %> logs @web nginx --lines 200',
    '<%= config.bin %> logs all ssh.service --since 30m --json',
    '<%= config.bin %> logs \'web-*\' /var/log/app.log --grep \'timeout|refused\' -i',
    '<%= config.bin %> logs g3 container:api --since 10m',
  ];
  static override args = {
    target: Args.string({ required: true, ignoreStdin: true, description: 'a node, @group, glob, comma list, all, @failed or @changed' }),
    source: Args.string({ required: true, ignoreStdin: true, description: 'system, auth, kernel, nginx, a unit, /a/file, or container:NAME' }),
  };
  static override flags = {
    since: Flags.string({ char: 's', description: 'only entries since then: 30m, 1h, 2d (by each node\'s clock), or 2026-12-02T06:00:00Z' }),
    grep: Flags.string({ char: 'g', description: 'only entries matching this extended regex (grep -E; PCRE2 for the journal)' }),
    'fixed-strings': Flags.boolean({ char: 'F', description: '--grep is a plain string, not a regex' }),
    'ignore-case': Flags.boolean({ char: 'i', description: '--grep ignores case' }),
    lines: Flags.string({ char: 'n', description: 'the last N entries per node (per file for nginx; default 100)' }),
    follow: Flags.boolean({ char: 'f', description: 'keep streaming new entries from every node until Ctrl-C' }),
    timeout: Flags.string({ char: 't', description: 'per node: give up on a node after this long (not with --follow)' }),
    concurrency: Flags.integer({ description: 'nodes at once (default 500)', min: 1 }),
    inventory: Flags.string({ description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Logs);
    const source = parseLogSource(args.source);
    const lines = flags.lines === undefined ? 100 : /^\d+$/.test(flags.lines) ? Number(flags.lines) : NaN;
    if (!(lines >= 1 && lines <= 1_000_000)) this.usage(`--lines "${flags.lines}" is not a whole number from 1 to 1000000`);
    const q: LogQuery = {
      lines,
      ...(flags.since ? { since: parseSince(flags.since) } : {}),
      ...(flags.grep !== undefined ? { grep: flags.grep } : {}),
      ...(flags['fixed-strings'] ? { fixed: true } : {}),
      ...(flags['ignore-case'] ? { ignoreCase: true } : {}),
    };
    if (flags.follow && flags.timeout) this.usage('--timeout does not go with --follow (a follow runs until Ctrl-C)');
    const inv = await this.inventory(flags.inventory);
    const nodes = inv.resolve(args.target);
    const signal = this.signal();
    const json = this.jsonEnabled();
    const c = paint(process.stdout);
    const e = paint(process.stderr);
    const width = Math.max(...nodes.map((n) => n.length));
    const prefix = (node: string): string => c.cyan(node.padEnd(width)) + ': ';
    const say = (line: string): void => void process.stderr.write(line + '\n');
    const base = { ...(flags.concurrency ? { concurrency: flags.concurrency } : {}), signal };

    if (flags.follow) {
      const run = await followFleet(this.pool, nodes, source, q, {
        ...base,
        onEntry: (node, entry) => process.stdout.write(json ? JSON.stringify({ node, ...entry }) + '\n' : prefix(node) + entryText(entry, c) + '\n'),
        onNote: (node, note) => (json ? undefined : say(e.dim(`${node}: ${note}`))),
        onProgress: (p) => {
          const r = p.last;
          if (!r || r.outcome === 'ok' || r.outcome === 'cancelled') return;
          const left = p.total - p.done;
          if (!json) say(e.yellow(`${r.node} ${r.outcome === 'unreachable' ? 'dropped' : r.outcome}: ${r.error?.message ?? r.outcome}${left ? `; still following ${left} node${left === 1 ? '' : 's'}` : ''}`));
        },
      });
      recordRun(this.paths.lastRun, 'logs', args.target, run.results.map((r) => ({ ...r, outcome: r.outcome === 'cancelled' ? 'ok' : r.outcome })));
      const summary = run.results.map((r) => ({ node: r.node, outcome: r.outcome === 'cancelled' ? 'stopped' : r.outcome, ...(r.error && r.outcome !== 'cancelled' ? { error: r.error } : {}) }));
      if (json) process.stdout.write(JSON.stringify({ summary: { target: args.target, source: source.spec, nodes: summary } }) + '\n');
      if (run.results.some((r) => r.outcome !== 'ok' && r.outcome !== 'cancelled')) process.exitCode = 1;
      return undefined;
    }

    const run = await logsFleet(this.pool, nodes, source, q, { ...base, ...(flags.timeout ? { timeoutMs: parseDuration(flags.timeout, '--timeout') } : {}) });
    recordRun(this.paths.lastRun, 'logs', args.target, run.results);
    if (!json) {
      for (const r of run.results) for (const entry of r.value?.entries ?? []) process.stdout.write(prefix(r.node) + entryText(entry, c) + '\n');
      for (const r of run.results) for (const note of r.value?.notes ?? []) say(e.dim(`${r.node}: ${note}`));
      for (const r of run.results) if (r.outcome !== 'ok') say(`${e.red(r.node)}: ${r.error?.message ?? r.outcome}`);
    }
    if (run.results.some((r) => r.outcome !== 'ok')) process.exitCode = 1;
    return { target: args.target, source: source.spec, nodes: run.results.map(nodeJson), counts: run.counts, durationMs: Math.round(run.durationMs) };
  }
}

function nodeJson(r: NodeOutcome<LogsValue>): Record<string, unknown> {
  return {
    node: r.node,
    outcome: r.outcome,
    sources: r.value?.sources ?? [],
    entries: r.value?.entries ?? [],
    notes: r.value?.notes ?? [],
    error: r.error ?? null,
    durationMs: Math.round(r.durationMs),
  };
}
