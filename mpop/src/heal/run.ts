import type { Pool, SysInfo, VsshClient } from '@meshpop/vssh';
import { MpopError, errorInfo } from '../errors.js';
import { fanout, type FanoutOptions, type FanoutResult } from '../fanout/run.js';
import { appendAudit, type AuditEntry } from './audit.js';
import type { CheckResult, CheckStatus, FixOutcome, HealCheck, HealContext } from './check.js';
import { CHECKS } from './checks/index.js';
import type { HealConfig } from './config.js';
import { runRemote } from './remote.js';

/** CheckReport is one check on one node: its verdict and, when a fix ran, what it did and the verdict after it. */
export interface CheckReport extends CheckResult {
  check: string;
  fix?: FixOutcome & { result: 'fixed' | 'still failing' | 'fix failed' | 'not run'; after?: CheckResult };
}

/** NodeHeal is every selected check on one node. */
export interface NodeHeal {
  node: string;
  checks: CheckReport[];
  /** the worst status left after fixes */
  worst: CheckStatus;
}

/** HealOptions shape a heal run. */
export interface HealOptions {
  config: HealConfig;
  /** the audit log (every fix, one JSON line) */
  audit: string;
  /** run the fixes of every problem found (without it only the checks listed in config.auto fix) */
  fix?: boolean;
  /** only these checks (names from CHECK_NAMES) */
  checks?: string[];
  /** per node, after each check */
  onCheck?: (node: string, report: CheckReport) => void;
}

const RANK: Record<CheckStatus, number> = { ok: 0, unknown: 1, warn: 2, problem: 3 };

/** selectChecks returns the checks by name (all by default); an unknown name is MPOP_USAGE with the names there are. */
export function selectChecks(names?: string[]): HealCheck[] {
  if (!names?.length) return [...CHECKS];
  const bad = names.find((n) => !CHECKS.some((c) => c.name === n));
  if (bad !== undefined) throw new MpopError('MPOP_USAGE', `there is no check "${bad}"; the checks: ${CHECKS.map((c) => c.name).join(', ')}`);
  return CHECKS.filter((c) => names.includes(c.name));
}

/** contextFor builds a check's context: sysinfo read at most once (timed, for the clock), commands run through vssh. */
function contextFor(node: string, client: VsshClient, config: HealConfig, signal: AbortSignal): HealContext {
  let info: Promise<SysInfo> | undefined;
  let timing: { rttMs: number; controllerMidMs: number } | undefined;
  return {
    node, client, config, signal,
    info() {
      info ??= (async () => {
        const t0 = Date.now(), p0 = performance.now();
        const i = await client.sysinfo();
        const rtt = performance.now() - p0;
        timing = { rttMs: rtt, controllerMidMs: t0 + rtt / 2 };
        return i;
      })();
      return info;
    },
    timing: () => timing,
    run: (argv, o = {}) => runRemote(client, argv, { ...o, signal }),
  };
}

/** runCheck runs one check; a check that throws is `unknown` with what went wrong (never ok). */
async function runCheck(check: HealCheck, ctx: HealContext): Promise<CheckResult> {
  try {
    return await check.run(ctx);
  } catch (err) {
    return { status: 'unknown', diagnosis: `the ${check.name} check could not run on ${ctx.node}: ${errorInfo(err).message}`, evidence: { error: errorInfo(err) } };
  }
}

/** healNode runs the checks on one node, fixes what is allowed, audits each fix and checks again after it. */
export async function healNode(node: string, client: VsshClient, signal: AbortSignal, opts: HealOptions): Promise<NodeHeal> {
  const checks = selectChecks(opts.checks);
  const ctx = contextFor(node, client, opts.config, signal);
  const reports: CheckReport[] = [];
  let daemonDown: string | undefined;
  try {
    await ctx.info();
  } catch (err) {
    daemonDown = errorInfo(err).message;
  }
  for (const check of checks) {
    let found: CheckReport;
    if (daemonDown !== undefined && check.name !== 'vssh') found = { check: check.name, status: 'unknown', diagnosis: `not run: ${node}'s vssh daemon did not answer${checks.some((c) => c.name === 'vssh') ? ' (see the vssh check)' : `: ${daemonDown}`}`, evidence: { error: daemonDown } };
    else found = { check: check.name, ...(await runCheck(check, ctx)) };
    if (found.status === 'problem' && check.fix && (opts.fix || opts.config.auto.includes(check.name as never)) && daemonDown === undefined) {
      found.fix = await fixAndRecheck(check, ctx, found, opts);
    }
    reports.push(found);
    opts.onCheck?.(node, found);
  }
  const final = (r: CheckReport): CheckStatus => r.fix?.after?.status ?? r.status;
  return { node, checks: reports, worst: reports.reduce<CheckStatus>((w, r) => (RANK[final(r)] > RANK[w] ? final(r) : w), 'ok') };
}

/** fixAndRecheck runs a check's fix, runs the check again on fresh readings, and appends the audit line. */
async function fixAndRecheck(check: HealCheck, ctx: HealContext, found: CheckResult, opts: HealOptions): Promise<NonNullable<CheckReport['fix']>> {
  let outcome: FixOutcome;
  try {
    outcome = await check.fix!(ctx, found);
  } catch (err) {
    outcome = { action: check.name, ok: false, detail: `the fix failed: ${errorInfo(err).message}` };
  }
  if (outcome.notRun) return { ...outcome, result: 'not run' };
  const after = await runCheck(check, contextFor(ctx.node, ctx.client, ctx.config, ctx.signal));
  const result = !outcome.ok ? 'fix failed' : after.status === 'ok' || after.status === 'warn' ? 'fixed' : 'still failing';
  const entry: AuditEntry = {
    time: new Date().toISOString(), node: ctx.node, check: check.name, action: outcome.action, result,
    before: { status: found.status, diagnosis: found.diagnosis }, after: { status: after.status, diagnosis: after.diagnosis }, detail: outcome.detail,
    ...(outcome.freedBytes !== undefined ? { freedBytes: outcome.freedBytes } : {}),
  };
  try {
    appendAudit(opts.audit, entry);
  } catch (err) {
    throw new MpopError('MPOP_HEAL', `${check.name} on ${ctx.node}: the fix ran (${outcome.action}: ${result}) but could not be written to the audit log ${opts.audit}: ${errorInfo(err).message}`, { cause: err });
  }
  return { ...outcome, result, after };
}

/** healFleet runs heal on every node (fan-out). A node is ok when nothing is left worse than a warning, failed otherwise; changed when a fix worked. */
export function healFleet(pool: Pool, nodes: string[], opts: HealOptions, fan: FanoutOptions = {}): Promise<FanoutResult<NodeHeal>> {
  selectChecks(opts.checks);
  return fanout(pool, nodes, ({ node, client, signal }) => healNode(node, client, signal, opts), {
    ...fan,
    judge: (h) => ({
      outcome: h.worst === 'problem' ? 'failed' : 'ok',
      changed: h.checks.some((c) => c.fix?.result === 'fixed' || (c.fix?.ok && c.fix.result !== 'not run')),
    }),
  });
}
