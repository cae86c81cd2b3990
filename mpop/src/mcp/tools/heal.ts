import { existsSync } from 'node:fs';
import { z } from 'zod';
import { fold } from '../../fanout/fold.js';
import { recap } from '../../fanout/recap.js';
import type { FanoutResult } from '../../fanout/run.js';
import { CHECKS } from '../../heal/checks/index.js';
import { CHECK_NAMES, readHealConfig, type HealConfig } from '../../heal/config.js';
import { healFleet, type CheckReport, type NodeHeal } from '../../heal/run.js';
import { mpopPaths } from '../../paths.js';
import { recordRun } from '../../runs.js';
import { defineTool, LOCAL_READ, READ, type ToolContext, type ToolDef } from '../tool.js';
import { targetField } from './exec.js';

/** settingsOf is the part of heal.yaml each check reads. */
function settingsOf(name: string, c: HealConfig): Record<string, unknown> {
  const t = c.thresholds;
  switch (name) {
    case 'disk': return { 'thresholds.disk': t.disk, 'disk.mounts': c.disk.mounts ?? 'every real filesystem', 'disk.clean': c.disk.clean, 'disk.olderThanDays': c.disk.olderThanDays, 'disk.tmpDirs': c.disk.tmpDirs, 'disk.journalKeep': c.disk.journalKeep, 'disk.commands': Object.keys(c.disk.commands) };
    case 'inodes': return { 'thresholds.inodes': t.inodes, 'disk.mounts': c.disk.mounts ?? 'every real filesystem' };
    case 'unit': return { 'units.ignore': c.units.ignore };
    case 'mesh': return { 'thresholds.peerStale': `${t.peerStaleMs / 1000}s` };
    case 'load': return { 'thresholds.load': t.load };
    case 'memory': return { 'thresholds.memory': t.memory, 'thresholds.psi': t.psi };
    case 'clock': return { 'thresholds.clock': `${t.clockMs / 1000}s` };
    default: return {};
  }
}

const checks = defineTool({
  name: 'mpop_checks',
  title: 'Heal checks',
  description: 'The checks mpop_heal_check runs, in order: what each looks at, the settings it reads from $MESHPOP_HOME/mpop/heal.yaml (thresholds, mounts, cleaners; defaults where the file is silent), what its fix does, and whether heal.yaml lets that fix run on its own (auto). Reads this machine only.',
  toolset: 'heal',
  input: {},
  output: {
    config: z.object({ file: z.string(), exists: z.boolean() }),
    checks: z.array(z.object({ name: z.string(), looksAt: z.string(), settings: z.record(z.string(), z.unknown()), fix: z.string().nullable(), auto: z.boolean() })),
  },
  annotations: LOCAL_READ,
  async run(_a, ctx) {
    const file = mpopPaths(ctx.home).healConfig;
    const config = readHealConfig(file);
    const list = CHECKS.map((c) => ({ name: c.name, looksAt: c.describe, settings: settingsOf(c.name, config), fix: c.fix ? (c.fixes ?? 'a fix') : null, auto: (config.auto as string[]).includes(c.name) }));
    const text = list.map((c) => `${c.name}: ${c.looksAt}; ${Object.entries(c.settings).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`).join(' ') || 'no settings'}; fix: ${c.fix ?? 'none'}${c.auto ? ' (auto)' : ''}`).join('\n');
    return { data: { config: { file, exists: existsSync(file) }, checks: list }, text: `${text}\n(${existsSync(file) ? file : `no ${file}: the defaults`})` };
  },
});

const status = z.enum(['ok', 'warn', 'problem', 'unknown']);
const verdict = z.object({ status, diagnosis: z.string() });
const fixResult = z.object({ action: z.string(), ok: z.boolean(), result: z.enum(['fixed', 'still failing', 'fix failed', 'not run']), detail: z.string(), freedBytes: z.number().optional(), steps: z.array(z.object({ command: z.string(), exitCode: z.number().nullable(), stderr: z.string().optional() })).optional(), notRun: z.literal(true).optional(), after: verdict.extend({ evidence: z.record(z.string(), z.unknown()) }).optional() });
const checkRow = z.object({ check: z.string(), status, diagnosis: z.string(), evidence: z.record(z.string(), z.unknown()), fix: fixResult.optional() });
const healOutput = {
  target: z.string(),
  nodes: z.array(z.object({ node: z.string(), outcome: z.string(), worst: status.optional(), checks: z.array(checkRow), error: z.object({ code: z.string(), message: z.string() }).optional(), durationMs: z.number() })),
  problems: z.array(z.object({ node: z.string(), check: z.string(), diagnosis: z.string() })),
  counts: z.record(z.string(), z.number()),
  durationMs: z.number(),
};

const healInput = {
  target: targetField.optional().describe('nodes to check (default all): a node, @group, glob, comma list, all, @failed or @changed'),
  checks: z.array(z.enum(CHECK_NAMES)).min(1).optional().describe(`only these checks (${CHECK_NAMES.join(', ')}); default all`),
  timeoutSeconds: z.number().positive().max(3600).optional().describe('per node: give up on a node after this many seconds'),
};
type HealArgs = { target?: string; checks?: (typeof CHECK_NAMES)[number][]; timeoutSeconds?: number };

/** plain is evidence as JSON (no undefined, no class instances), as the output schema sees it. */
const plain = (e: Record<string, unknown> | undefined): Record<string, unknown> => JSON.parse(JSON.stringify(e ?? {})) as Record<string, unknown>;

/** final is a check's status after its fix, when one ran. */
const final = (r: CheckReport): string => r.fix?.after?.status ?? r.status;

/** checkLine is one check for people, its fix and the verdict after it under it. */
function checkLine(r: CheckReport): string {
  const line = `  ${r.check} ${r.status}: ${r.diagnosis}`;
  if (!r.fix) return line;
  const f = r.fix;
  return `${line}\n    fix: ${f.action}: ${f.result}: ${f.detail}${f.after ? ` (now ${f.after.status}: ${f.after.diagnosis})` : ''}`;
}

/** runHeal runs the checks (and with `fix`, the fixes) over the target and shapes the answer. */
async function runHeal(a: HealArgs, ctx: ToolContext, fix: boolean) {
  const target = a.target ?? 'all';
  const nodes = (await ctx.inventory()).resolve(target);
  const paths = mpopPaths(ctx.home);
  const config = readHealConfig(paths.healConfig);
  // A check never fixes: heal.yaml's auto list applies to mpop_heal_fix and the CLI, not to a read.
  if (!fix) config.auto = [];
  const run: FanoutResult<NodeHeal> = await healFleet(ctx.pool, nodes, { config, audit: paths.audit, fix, ...(a.checks ? { checks: a.checks } : {}) }, {
    signal: ctx.signal,
    ...(a.timeoutSeconds ? { timeoutMs: a.timeoutSeconds * 1000 } : {}),
    onProgress: (p) => ctx.progress({ done: p.done, total: p.total, message: `${p.done}/${p.total} nodes${p.last ? ` (${p.last.node}: ${p.last.outcome})` : ''}` }),
  });
  recordRun(paths.lastRun, 'heal', target, run.results);
  const rows = run.results.map((r) => ({
    node: r.node,
    outcome: r.outcome,
    ...(r.value ? { worst: r.value.worst } : {}),
    checks: (r.value?.checks ?? []).map((c) => ({ ...c, evidence: plain(c.evidence), ...(c.fix ? { fix: { ...c.fix, ...(c.fix.after ? { after: { status: c.fix.after.status, diagnosis: c.fix.after.diagnosis, evidence: plain(c.fix.after.evidence) } } : {}) } } : {}) })),
    ...(r.error ? { error: r.error } : {}),
    durationMs: Math.round(r.durationMs),
  }));
  const problems = run.results.flatMap((r) => (r.value?.checks ?? []).filter((c) => final(c) === 'problem').map((c) => ({ node: r.node, check: c.check, diagnosis: c.fix?.after?.diagnosis ?? c.diagnosis })));
  const blocks = fold(run.results.map((r) => ({ node: r.node, text: r.value ? r.value.checks.map(checkLine).join('\n') : `  ${r.outcome}: ${r.error?.message ?? ''}` }))).map((f) => `== ${f.label} ==\n${f.text}`);
  const tail = problems.length ? `${problems.length} problem(s) left: ${problems.map((p) => `${p.node} ${p.check}`).join(', ')}` : 'no problem left';
  const text = [...blocks, `${tail}; ${recap(run).map((l) => `${l.outcome}: ${l.count}`).join('; ')}`].join('\n');
  const data = { target, nodes: rows, problems, counts: run.counts, durationMs: Math.round(run.durationMs) };
  return { data, text, run, problems };
}

const healCheck = defineTool({
  name: 'mpop_heal_check',
  title: 'Run the heal checks',
  description:
    'Runs the heal checks on each node of the target (mpop_checks lists them with their thresholds): vssh, disk, inodes, unit, mesh, load, memory, clock. Per node per check: ok, warn, problem, or unknown (the check could not run there, and says why: never ok), a diagnosis and the evidence it rests on. ' +
    'Changes nothing (no fix runs, not even those heal.yaml marks auto). The result is an error when any problem is found, so it is noticed: mpop_heal_fix runs the fixes.',
  toolset: 'heal',
  input: healInput,
  output: healOutput,
  annotations: READ,
  long: true,
  targets: (a) => a.target ?? 'all',
  async run(a, ctx) {
    const { data, text, run, problems } = await runHeal(a, ctx, false);
    const down = run.results.some((r) => r.outcome !== 'ok' && r.outcome !== 'failed');
    return { data, text: problems.length ? `${text}\nmpop_heal_fix runs the fixes of these (mpop_checks says what each does).` : text, isError: problems.length > 0 || down };
  },
});

/** fixNames are the selected checks that have a fix, each with what it does. */
const fixNames = (names?: string[]): string => CHECKS.filter((c) => c.fix && (!names?.length || names.includes(c.name))).map((c) => `${c.name} (${c.fixes ?? 'its fix'})`).join('; ');

const healFix = defineTool({
  name: 'mpop_heal_fix',
  title: 'Fix what the heal checks find',
  description:
    'Runs the heal checks on each node of the target and the fixes of the problems they find, as `mpop heal --fix` does: disk cleaning limited to what heal.yaml\'s disk.clean allows, systemctl restart of failed units, a restart of wire\'s service for a stale mesh peer. After each fix the check runs again; the result says what was done, and fixed or still failing. ' +
    'Every fix is appended to $MESHPOP_HOME/mpop/audit.jsonl. Destructive: asks for confirmation. The result is an error when a problem is left.',
  toolset: 'heal',
  input: { ...healInput, target: targetField.describe('nodes to heal: a node, @group, glob, comma list, all (say all to mean every node), @failed or @changed') },
  output: { ...healOutput, fixes: z.array(z.object({ node: z.string(), check: z.string(), action: z.string(), result: z.string(), detail: z.string(), after: verdict.optional() })) },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  long: true,
  targets: (a) => a.target,
  confirm: (a) => `Run the heal fixes on ${a.target} for any problem found: ${fixNames(a.checks) || 'none of the chosen checks has a fix'}? Each fix is audited in $MESHPOP_HOME/mpop/audit.jsonl.`,
  async run(a, ctx) {
    const { data, text, run, problems } = await runHeal(a, ctx, true);
    const fixes = run.results.flatMap((r) => (r.value?.checks ?? []).filter((c) => c.fix).map((c) => ({ node: r.node, check: c.check, action: c.fix!.action, result: c.fix!.result, detail: c.fix!.detail, ...(c.fix!.after ? { after: { status: c.fix!.after.status, diagnosis: c.fix!.after.diagnosis } } : {}) })));
    const head = fixes.length ? `${fixes.length} fix(es) run: ${fixes.map((f) => `${f.node} ${f.check} ${f.result}`).join(', ')}` : 'no fix ran (no problem with a fix was found)';
    return { data: { ...data, fixes }, text: `${head}\n${text}`, isError: problems.length > 0 || run.results.some((r) => r.outcome !== 'ok') };
  },
});

/** healTools: mpop_checks, mpop_heal_check, mpop_heal_fix (toolset heal). */
export const healTools: ToolDef[] = [checks, healCheck, healFix] as unknown as ToolDef[];
