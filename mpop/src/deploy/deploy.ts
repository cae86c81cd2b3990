import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Pool, TransferOptions } from '@meshpop/vssh';
import { MpopError, errorInfo } from '../errors.js';
import { fanout, type FanoutOptions, type FanoutResult } from '../fanout/run.js';
import { health, restart, type HookResult } from './hooks.js';
import { deployPaths, newReleaseId, prunable, releaseAfter, stale, type DeployPaths, type NodeState } from './layout.js';
import { Remote } from './remote.js';

/** DEFAULT_KEEP is how many releases a node keeps (the live one counted). */
export const DEFAULT_KEEP = 5;

/** DeployStep is where a node's deploy is, for progress. */
export type DeployStep = 'probe' | 'clean' | 'copy' | 'sync' | 'switch' | 'restart' | 'health' | 'rollback' | 'prune' | 'done';

/** DeployRequest is what to deploy where. */
export interface DeployRequest {
  /** the local folder whose contents become each release */
  local: string;
  /** the absolute path on the nodes: a symlink to the live release */
  path: string;
  /** rsync-style exclude patterns (vssh filter rules) */
  exclude?: string[];
  /** a shell command run on the node after the switch (and again after a rollback) */
  restart?: string;
  /** a shell command that must exit 0 after the restart (retried until healthTimeoutMs) */
  health?: string;
  healthTimeoutMs?: number;
  /** releases to keep per node (default 5; the live one and the one before it are always kept) */
  keep?: number;
  /** only ask each node what would cross and what would be deleted; change nothing */
  dryRun?: boolean;
  /**
   * compare every file by SHA-256, not by size and mtime (vssh's checksum): slower, and it also brings over a
   * mode changed without a new mtime (chmod), which a size-and-mtime match skips
   */
  checksum?: boolean;
}

/** Crossed is what the sync moved. */
export interface Crossed {
  files: number;
  bytes: number;
  unchanged: number;
  deleted: number;
}

/** DeployValue is one node's deploy. */
export interface DeployValue {
  /** deployed: switched and healthy; rolled-back: switched, then back after a failed restart or health check; dry-run */
  status: 'deployed' | 'rolled-back' | 'dry-run';
  release: string;
  /** the release that was live before (none on a first deploy) */
  previous?: string;
  crossed: Crossed;
  restart?: HookResult;
  health?: HookResult;
  /** the restart run again after a rollback */
  rollbackRestart?: HookResult;
  /** why the node was rolled back */
  failure?: string;
  /** releases removed past --keep, and newer ones left by an interrupted run */
  pruned: string[];
  /** leftovers of interrupted runs that were removed */
  cleaned: string[];
  /** with dryRun: what would cross and what would be deleted */
  plan?: { send: { path: string; size: number; bytes: number }[]; bytes: number; unchanged: number; delete: string[]; deleted: number };
}

/** DeployOptions are the fan-out's options and a per-node step callback. */
export interface DeployOptions extends Omit<FanoutOptions, 'stopOnError' | 'canary'> {
  onStep?: (node: string, step: DeployStep, detail?: string) => void;
}

/**
 * deployFleet deploys a local folder to PATH on every node: a new release folder filled from a copy of the live
 * one made on the node (so only changed files cross, by vssh sync with delete), renamed into place once complete,
 * and switched in with an atomic rename of a symlink over PATH; then --restart, then --health. A node whose
 * restart or health check fails is switched back (and restarted again), and the rollout stops: no new node
 * starts (with a batch, the first node is a canary on its own). A run killed at any moment leaves each node on
 * its old or its new release. Never throws for a node; throws MPOP_USAGE for a bad request.
 */
export async function deployFleet(pool: Pool, nodes: string[], req: DeployRequest, opts: DeployOptions = {}): Promise<FanoutResult<DeployValue>> {
  const p = deployPaths(req.path);
  const local = resolve(req.local);
  const st = statSync(local, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new MpopError('MPOP_USAGE', `${req.local} is ${st ? 'not a folder' : 'not there'}: deploy sends a folder's contents (mpop deploy ./site @web:/var/www/site)`);
  const keep = req.keep ?? DEFAULT_KEEP;
  if (!Number.isInteger(keep) || keep < 1) throw new MpopError('MPOP_USAGE', `--keep must be a whole number of releases, 1 or more (got ${keep})`);
  const id = newReleaseId();
  for (const pattern of req.exclude ?? []) {
    if (pattern.replace(/^\/+|\/+$/g, '') === '' || pattern.includes('\0')) throw new MpopError('MPOP_USAGE', `--exclude ${JSON.stringify(pattern)} is not a pattern (examples: '*.log', node_modules, build/out)`);
  }
  const filter: TransferOptions['filter'] = (req.exclude ?? []).map((pattern) => ({ action: 'exclude' as const, pattern }));
  return fanout<DeployValue>(
    pool,
    nodes,
    async ({ node, client, signal }) => {
      const step = (s: DeployStep, detail?: string): void => opts.onStep?.(node, s, detail);
      const remote = new Remote(node, client, p, signal);
      step('probe');
      await remote.checkPolicy();
      const first = await remote.probe();
      refuseLayout(node, p, first);
      if (req.dryRun) return dryRun(remote, local, filter, first, releaseAfter(id, first.releases.at(-1)), req.checksum === true);
      if (!first.hasReleasesDir) await remote.mkdirReleases();
      const unlock = await remote.lock();
      try {
        const state = await remote.probe(); // again, under the lock: what another run did before it counts
        refuseLayout(node, p, state);
        return await deployNode(remote, local, filter, state, releaseAfter(id, state.releases.at(-1)), req, keep, step);
      } finally {
        await unlock();
      }
    },
    {
      ...opts,
      stopOnError: true,
      ...(opts.batch !== undefined ? { canary: true } : {}),
      judge: (v) =>
        v.status === 'rolled-back'
          ? { outcome: 'failed', changed: false, error: { code: 'MPOP_HEALTH', message: v.failure ?? 'rolled back' } }
          : { outcome: 'ok', changed: v.status === 'deployed' },
    },
  );
}

/** refuseLayout stops a deploy over a PATH that is not deploy's symlink (a plain folder, a foreign link, a file). */
export function refuseLayout(node: string, p: DeployPaths, st: NodeState): void {
  if (st.kind === 'folder') {
    throw new MpopError(
      'MPOP_DEPLOY',
      `${p.path} on ${node} is a plain folder; deploy makes it a symlink to a release and will not replace a folder in place (that cannot be atomic). ` +
        `To convert: move it aside (mv ${p.path} ${p.path}.orig) and deploy again, or deploy to a new path and point the service at it.`,
    );
  }
  if (st.kind === 'foreign-link') throw new MpopError('MPOP_DEPLOY', `${p.path} on ${node} is a symlink to ${JSON.stringify(st.linkText)}, not to a release in ${p.releases}; remove it or deploy to another path`);
  if (st.kind === 'other') throw new MpopError('MPOP_DEPLOY', `${p.path} on ${node} is a file, not a folder or a release symlink; remove it or deploy to another path`);
  if (!st.hasReleasesDir && st.kind === 'release-link') throw new MpopError('MPOP_DEPLOY', `${p.releases} on ${node} is not a folder`);
}

async function dryRun(remote: Remote, local: string, filter: TransferOptions['filter'], st: NodeState, release: string, checksum: boolean): Promise<DeployValue> {
  // against the live release (what a copy of it would be); a first deploy against a folder that does not exist yet
  const dest = st.live ? remote.p.release(st.live) : remote.p.incoming(release);
  const r = await remote.client.sync(local, dest, { delete: true, filter, dryRun: true, ...(checksum ? { checksum: true } : {}) });
  const plan = r.dryRun!;
  return {
    status: 'dry-run',
    release,
    ...(st.live ? { previous: st.live } : {}),
    crossed: { files: plan.send.length, bytes: plan.bytes, unchanged: plan.unchanged, deleted: plan.deleted },
    pruned: [],
    cleaned: [],
    plan: { send: plan.send.map((s) => ({ path: s.path, size: s.size, bytes: s.bytes })), bytes: plan.bytes, unchanged: plan.unchanged, delete: plan.delete, deleted: plan.deleted },
  };
}

async function deployNode(remote: Remote, local: string, filter: TransferOptions['filter'], st: NodeState, release: string, req: DeployRequest, keep: number, step: (s: DeployStep, detail?: string) => void): Promise<DeployValue> {
  const { p, node } = remote;
  step('clean');
  const cleaned = [...st.junk];
  await remote.removeJunk(st.junk);
  const gone = stale(st);
  await remote.remove(gone);
  const releases = st.releases.filter((r) => !gone.includes(r));

  step('copy', st.live);
  const incoming = p.incoming(release);
  if (st.live) await remote.copyRelease(p.release(st.live), incoming);
  else await remote.mkdir(incoming);

  step('sync');
  let crossed: Crossed;
  try {
    const r = await remote.client.sync(local, incoming, { delete: true, filter, ...(req.checksum ? { checksum: true } : {}) });
    const failed = [...r.sent.failed, ...r.received.failed];
    if (failed.length) {
      const list = failed.slice(0, 5).map((f) => `${f.path}: ${f.error}`).join('; ');
      throw new MpopError('MPOP_DEPLOY', `${failed.length} file${failed.length === 1 ? '' : 's'} could not be sent to ${node} (${list}); nothing was switched`);
    }
    crossed = { files: r.received.files, bytes: r.received.bytes, unchanged: r.received.unchanged, deleted: r.received.deleted };
  } catch (err) {
    if (errorInfo(err).code === 'VSSH_POLICY') {
      await remote.removeJunk([`.incoming-${release}`]).catch(() => undefined);
      throw new MpopError('MPOP_DEPLOY', `${node}'s vssh policy refused the files for ${incoming}: ${errorInfo(err).message}`, { cause: err });
    }
    if (!remote.signal?.aborted) await remote.removeJunk([`.incoming-${release}`]).catch(() => undefined);
    throw err;
  }
  await remote.rename(incoming, p.release(release));

  step('switch', release);
  await remote.switchTo(release);
  const value: DeployValue = { status: 'deployed', release, ...(st.live ? { previous: st.live } : {}), crossed, pruned: [...gone], cleaned };

  const back = async (why: string): Promise<DeployValue> => {
    step('rollback', st.live);
    await remote.switchTo(st.live);
    if (req.restart) value.rollbackRestart = await restart(remote, req.restart, st.live);
    await remote.remove([release]);
    value.status = 'rolled-back';
    value.failure = why + (st.live ? `; back on ${st.live}` : `; ${p.path} removed again (this was its first release)`);
    return value;
  };
  if (req.restart) {
    step('restart');
    value.restart = await restart(remote, req.restart, release);
    if (!value.restart.ok) return back(`--restart ${hookFailure(value.restart)}`);
  }
  if (req.health) {
    step('health');
    value.health = await health(remote, req.health, release, { ...(req.healthTimeoutMs ? { timeoutMs: req.healthTimeoutMs } : {}), ...(remote.signal ? { signal: remote.signal } : {}) });
    if (!value.health.ok) return back(`--health ${hookFailure(value.health)}`);
  }

  step('prune');
  const old = prunable([...releases, release], release, keep);
  await remote.remove(old);
  value.pruned.push(...old);
  step('done', release);
  return value;
}

/** hookFailure says how a hook failed, with the start of its output. */
export function hookFailure(h: HookResult): string {
  const how = h.timedOut ? 'timed out' : h.exitCode === null ? 'could not run' : `exited ${h.exitCode}`;
  const tries = h.attempts > 1 ? ` after ${h.attempts} attempts` : '';
  const out = h.output ? `: ${h.output.split('\n').slice(-3).join(' / ').slice(0, 300)}` : '';
  return `${how}${tries}${out}`;
}
