import { z } from 'zod';
import { deployFleet } from '../../deploy/deploy.js';
import { listReleases, rollbackFleet } from '../../deploy/releases.js';
import { splitTargetPath } from '../../deploy/layout.js';
import { mpopPaths } from '../../paths.js';
import { recordRun } from '../../runs.js';
import { READ, type ToolDef } from '../tool.js';
import { fleetTool, nodeResult } from './fleet-tool.js';
import { defineTool } from '../tool.js';

const where = z.string().min(3).describe('TARGET:PATH, e.g. "@web:/var/www/site": the nodes, and the absolute path on them that is a symlink to the live release');
const hook = z.object({ ok: z.boolean(), exitCode: z.number().nullable(), timedOut: z.boolean(), output: z.string(), attempts: z.number() });
const crossed = z.object({ files: z.number(), bytes: z.number(), unchanged: z.number(), deleted: z.number() });
const deployValue = z.object({
  status: z.enum(['deployed', 'rolled-back', 'dry-run']),
  release: z.string(),
  previous: z.string().optional(),
  crossed,
  restart: hook.optional(),
  health: hook.optional(),
  rollbackRestart: hook.optional(),
  failure: z.string().optional(),
  pruned: z.array(z.string()),
  cleaned: z.array(z.string()),
  plan: z.object({ send: z.array(z.object({ path: z.string(), size: z.number(), bytes: z.number() })), bytes: z.number(), unchanged: z.number(), delete: z.array(z.string()), deleted: z.number() }).optional(),
});
const summary = <T extends { node: string; outcome: string; error?: { message: string } }>(rows: T[], ok: (r: T) => string): string =>
  rows.map((r) => `${r.node}: ${r.outcome === 'ok' ? ok(r) : `${r.outcome}${r.error ? `: ${r.error.message}` : ''}`}`).join('\n');

const deploy = defineTool({
  name: 'mpop_deploy',
  title: 'Deploy a folder as a new release',
  description:
    'Deploys a local folder (on the machine running mpop-mcp) to TARGET:PATH: on each node a new release folder, filled from a copy of the live release made on the node so only changed files cross, then switched in atomically (a symlink rename), then restart, then health. A failed restart or health check rolls that node back and stops the rollout; with batch, one canary node goes first. A deploy interrupted at any moment leaves each node on its old or new release. dryRun says what would cross and changes nothing.',
  toolset: 'deploy',
  input: {
    local: z.string().min(1).describe('the local folder whose contents become the release'),
    to: where,
    restart: z.string().optional().describe('a shell command run on each node after the switch, e.g. "systemctl reload nginx"'),
    health: z.string().optional().describe('a shell command that must exit 0 after the restart, e.g. "curl -fsS localhost:8080/health"; retried up to healthTimeoutSeconds'),
    healthTimeoutSeconds: z.number().positive().max(600).optional().describe('how long the health check may take to pass (default 30)'),
    exclude: z.array(z.string()).optional().describe('rsync-style patterns left out of the release, e.g. ["*.log", "node_modules/"]'),
    keep: z.number().int().min(1).max(100).optional().describe('releases kept per node (default 5)'),
    batch: z.string().regex(/^\d+%?$/).optional().describe('rolling waves of N nodes or N% after a canary of one'),
    dryRun: z.boolean().optional().describe('only report what would cross and be deleted'),
  },
  output: { target: z.string(), path: z.string(), nodes: z.array(nodeResult(deployValue)), counts: z.record(z.string(), z.number()), durationMs: z.number(), stopped: z.string().optional() },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  long: true,
  targets: (a) => a.to,
  confirm: (a) => `Deploy ${a.local} to ${a.to}${a.restart ? ` and run \`${a.restart}\`` : ''}?`,
  async run(a, ctx) {
    const { target, path } = splitTargetPath(a.to);
    const nodes = (await ctx.inventory()).resolve(target);
    let done = 0;
    const run = await deployFleet(ctx.pool, nodes, { local: a.local, path, ...(a.restart ? { restart: a.restart } : {}), ...(a.health ? { health: a.health } : {}), ...(a.healthTimeoutSeconds ? { healthTimeoutMs: a.healthTimeoutSeconds * 1000 } : {}), ...(a.exclude ? { exclude: a.exclude } : {}), ...(a.keep ? { keep: a.keep } : {}), ...(a.dryRun ? { dryRun: true } : {}) }, {
      signal: ctx.signal,
      ...(a.batch ? { batch: a.batch } : {}),
      onStep: (node, step) => {
        if (step === 'done') done++;
        ctx.progress({ done, total: nodes.length, message: `${node}: ${step}` });
      },
    });
    if (!a.dryRun) recordRun(mpopPaths(ctx.home).lastRun, 'deploy', a.to, run.results);
    const rows = run.results.map((r) => ({ node: r.node, outcome: r.outcome, ...(r.value ? { value: r.value } : {}), ...(r.error ? { error: r.error } : {}), durationMs: Math.round(r.durationMs) }));
    const text = summary(rows, (r) => (r.value!.status === 'dry-run' ? `would send ${r.value!.plan?.send.length ?? 0} files (${r.value!.plan?.bytes ?? 0} bytes), delete ${r.value!.plan?.deleted ?? 0}` : `${r.value!.status} ${r.value!.release} (${r.value!.crossed.files} files crossed, ${r.value!.crossed.unchanged} unchanged)`)) + (run.stopped ? `\n${run.stopped}` : '');
    return { data: { target, path, nodes: rows, counts: run.counts, durationMs: Math.round(run.durationMs), ...(run.stopped ? { stopped: run.stopped } : {}) }, text, isError: rows.some((r) => r.outcome !== 'ok') };
  },
});

const rollback = defineTool({
  name: 'mpop_rollback',
  title: 'Roll back to the previous release',
  description: 'Switches TARGET:PATH on each node back to the release before the live one (or to a given release id), atomically, runs restart, and removes the releases newer than the one now live. A node with no earlier release fails with MPOP_NO_RELEASE; the others go on.',
  toolset: 'deploy',
  input: { to: where, release: z.string().optional().describe('a release id to go back to (mpop_releases lists them); default the one before the live one'), restart: z.string().optional().describe('a shell command run on each node after the switch') },
  output: { target: z.string(), path: z.string(), nodes: z.array(nodeResult(z.object({ from: z.string(), to: z.string(), removed: z.array(z.string()), restart: hook.optional() }))), counts: z.record(z.string(), z.number()), durationMs: z.number() },
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  long: true,
  targets: (a) => a.to,
  confirm: (a) => `Roll ${a.to} back${a.release ? ` to ${a.release}` : ' to the previous release'}?`,
  async run(a, ctx) {
    const { target, path } = splitTargetPath(a.to);
    const nodes = (await ctx.inventory()).resolve(target);
    const run = await rollbackFleet(ctx.pool, nodes, { path, ...(a.release ? { to: a.release } : {}), ...(a.restart ? { restart: a.restart } : {}) }, { signal: ctx.signal, onProgress: (p) => ctx.progress({ done: p.done, total: p.total }) });
    recordRun(mpopPaths(ctx.home).lastRun, 'rollback', a.to, run.results);
    const rows = run.results.map((r) => ({ node: r.node, outcome: r.outcome, ...(r.value ? { value: r.value } : {}), ...(r.error ? { error: r.error } : {}), durationMs: Math.round(r.durationMs) }));
    return { data: { target, path, nodes: rows, counts: run.counts, durationMs: Math.round(run.durationMs) }, text: summary(rows, (r) => `${r.value!.from} -> ${r.value!.to}`), isError: rows.some((r) => r.outcome !== 'ok') };
  },
});

const releases = fleetTool({
  name: 'mpop_releases',
  title: 'List releases',
  description: 'The releases of PATH on each node of the target, newest first: which is live, which came before, and leftovers of interrupted deploys.',
  toolset: 'deploy',
  input: { path: z.string().regex(/^\//).describe('the deployed path on the nodes, e.g. "/var/www/site"') },
  value: z.object({ kind: z.string(), live: z.string().optional(), previous: z.string().optional(), releases: z.array(z.object({ id: z.string(), time: z.string(), live: z.boolean(), stale: z.boolean() })), junk: z.array(z.string()) }),
  annotations: READ,
  gather: (pool, nodes, a, opts) => listReleases(pool, nodes, a.path, opts),
  render: (v) => (v.kind === 'release-link' ? `live ${v.live}${v.previous ? `, previous ${v.previous}` : ''}; ${v.releases.length} releases` : v.kind === 'missing' ? 'never deployed' : `not a deploy path (${v.kind})`),
});

/** deployTools are the release tools. */
export const deployTools: ToolDef[] = [deploy, rollback, releases] as unknown as ToolDef[];
