import type { Pool } from '@meshpop/vssh';
import { MpopError } from '../errors.js';
import { fanout, type FanoutOptions, type FanoutResult } from '../fanout/run.js';
import { restart, type HookResult } from './hooks.js';
import { deployPaths, previousOf, releaseTime, stale, RELEASE_ID, type NodeState } from './layout.js';
import { Remote } from './remote.js';

/** ReleaseRow is one release on a node. */
export interface ReleaseRow {
  id: string;
  /** when it was made (from its id) */
  time: string;
  live: boolean;
  /** newer than the live one: a deploy killed before its switch, or a release rolled away from; the next deploy removes it */
  stale: boolean;
}

/** NodeReleases is what one node holds for PATH. */
export interface NodeReleases {
  /** release-link: deployed; missing: never deployed; folder / foreign-link / other: PATH is not deploy's */
  kind: NodeState['kind'];
  live?: string;
  previous?: string;
  /** newest first */
  releases: ReleaseRow[];
  /** leftovers of interrupted runs (removed by the next deploy) */
  junk: string[];
}

/** listReleases reads each node's releases of PATH (read-only). */
export function listReleases(pool: Pool, nodes: string[], path: string, opts: FanoutOptions = {}): Promise<FanoutResult<NodeReleases>> {
  const p = deployPaths(path);
  return fanout<NodeReleases>(
    pool,
    nodes,
    async ({ node, client, signal }) => {
      const remote = new Remote(node, client, p, signal);
      await remote.checkPolicy();
      const st = await remote.probe();
      const old = new Set(stale(st));
      const prev = previousOf(st);
      return {
        kind: st.kind,
        ...(st.live ? { live: st.live } : {}),
        ...(prev ? { previous: prev } : {}),
        releases: st.releases
          .slice()
          .reverse()
          .map((id) => ({
            id,
            time: releaseTime(id)!.toISOString(),
            live: id === st.live,
            stale: old.has(id),
          })),
        junk: st.junk,
      };
    },
    opts,
  );
}

/** RollbackValue is one node's rollback. */
export interface RollbackValue {
  from: string;
  to: string;
  /** releases newer than `to` that were removed (the one rolled away from among them) */
  removed: string[];
  restart?: HookResult;
}

/** RollbackRequest says where to roll back and what to run after. */
export interface RollbackRequest {
  path: string;
  /** a release id to go back to (default: the one before the live one) */
  to?: string;
  restart?: string;
}

/**
 * rollbackFleet switches PATH on each node back to the release before the live one (or `to`), atomically, runs
 * --restart, and removes the releases newer than the one now live (as Capistrano does; deploy again to go forward),
 * so the live release is always the newest and the next rollback goes further back. A node with no release
 * to go back to fails with MPOP_NO_RELEASE; the others go on.
 */
export function rollbackFleet(pool: Pool, nodes: string[], req: RollbackRequest, opts: FanoutOptions = {}): Promise<FanoutResult<RollbackValue>> {
  const p = deployPaths(req.path);
  if (req.to !== undefined && !RELEASE_ID.test(req.to)) throw new MpopError('MPOP_USAGE', `--to "${req.to}" is not a release id (like 20261202T071500Z-3f2a); mpop releases TARGET:PATH lists them`);
  return fanout<RollbackValue>(
    pool,
    nodes,
    async ({ node, client, signal }) => {
      const remote = new Remote(node, client, p, signal);
      await remote.checkPolicy();
      let st = await remote.probe();
      let unlock: (() => Promise<void>) | undefined;
      if (st.kind === 'release-link') {
        unlock = await remote.lock();
        st = await remote.probe(); // again, under the lock
      }
      try {
        return await rollbackNode(remote, st, req);
      } finally {
        await unlock?.();
      }
    },
    {
      ...opts,
      judge: (v) =>
        v.restart && !v.restart.ok
          ? {
              outcome: 'failed',
              changed: true,
              error: {
                code: 'MPOP_REMOTE',
                message: `switched to ${v.to}, but --restart ${v.restart.timedOut ? 'timed out' : `exited ${v.restart.exitCode}`}: ${v.restart.output.slice(0, 300)}`,
              },
            }
          : { outcome: 'ok', changed: true },
    },
  );
}

/** rollbackNode switches one node back (under its lock), removes the releases past the one now live, and restarts. */
async function rollbackNode(remote: Remote, st: NodeState, req: RollbackRequest): Promise<RollbackValue> {
  const { node, p } = remote;
  if (st.kind === 'missing') throw new MpopError('MPOP_NO_RELEASE', `${p.path} was never deployed on ${node}: there is nothing to roll back`);
  if (st.kind !== 'release-link')
    throw new MpopError(
      'MPOP_DEPLOY',
      `${p.path} on ${node} is not a release symlink made by mpop deploy (it is ${st.kind === 'folder' ? 'a plain folder' : st.kind === 'foreign-link' ? `a symlink to ${JSON.stringify(st.linkText)}` : 'a file'})`,
    );
  const from = st.live!;
  let to: string;
  if (req.to !== undefined) {
    if (req.to === from) throw new MpopError('MPOP_NO_RELEASE', `${req.to} is already the live release on ${node}`);
    if (!st.releases.includes(req.to)) throw new MpopError('MPOP_NO_RELEASE', `${node} has no release ${req.to}; it has ${st.releases.join(', ') || 'none'}`);
    to = req.to;
  } else {
    const prev = previousOf(st);
    if (!prev) throw new MpopError('MPOP_NO_RELEASE', `${node} has no release before ${from} to roll back to (only one release is kept there)`);
    to = prev;
  }
  await remote.switchTo(to);
  const removed = st.releases.filter((r) => r > to);
  await remote.remove(removed);
  const value: RollbackValue = { from, to, removed };
  if (req.restart) value.restart = await restart(remote, req.restart, to);
  return value;
}
