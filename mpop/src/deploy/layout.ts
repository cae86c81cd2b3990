import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { MpopError } from '../errors.js';

/**
 * The layout of a deployed PATH on a node (Capistrano's, with the in-progress parts hidden):
 *
 *   PATH                      a symlink to PATH.releases/<id> (relative: `site.releases/<id>`); the one path users point at
 *   PATH.releases/<id>/       one complete release each; <id> is UTC time + 4 hex (20261202T071500Z-3f2a), so names sort by age
 *   PATH.releases/.incoming-<id>/   a release being filled; renamed to <id> only once complete
 *   PATH.releases/.link-<id>  the new symlink, made here and renamed over PATH (rename(2) is atomic)
 *   PATH.releases/.trash-<r>/ releases on their way out (renamed first, then removed, so a half-removed release is never a release)
 *
 * After every operation the live release is the newest one: a release newer than it (left by a deploy killed
 * between its rename and its switch, or rolled away from) is removed by the next deploy or rollback.
 */

/** RELEASE_ID is the form of a release's folder name. */
export const RELEASE_ID = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;
/** JUNK matches what an interrupted deploy, rollback or prune leaves in the releases folder. */
export const JUNK = /^\.(incoming|link|trash)-/;

/** DeployPaths are the paths of one deployed PATH. */
export interface DeployPaths {
  path: string;
  releases: string;
  /** what PATH's symlink holds for a release: relative to PATH's folder */
  linkTo(id: string): string;
  release(id: string): string;
  incoming(id: string): string;
  link(id: string): string;
  trash(tag: string): string;
}

/** deployPaths checks PATH (absolute, normal, not /) and returns the layout's paths around it. */
export function deployPaths(path: string): DeployPaths {
  if (!posix.isAbsolute(path)) throw new MpopError('MPOP_USAGE', `the path on the nodes must be absolute, got "${path}" (as in @web:/var/www/site)`);
  const clean = posix.normalize(path).replace(/\/+$/, '');
  if (clean === '' || clean === '/') throw new MpopError('MPOP_USAGE', 'deploy cannot replace / itself; give a folder such as /var/www/site');
  if (path.split('/').some((seg) => seg === '..' || seg === '.')) throw new MpopError('MPOP_USAGE', `the path "${path}" has . or .. in it; give it plainly (${clean})`);
  if (/[\0\n]/.test(path)) throw new MpopError('MPOP_USAGE', 'the path on the nodes may not hold a newline or a NUL byte');
  const releases = `${clean}.releases`;
  const base = posix.basename(clean);
  return {
    path: clean,
    releases,
    linkTo: (id) => `${base}.releases/${id}`,
    release: (id) => `${releases}/${id}`,
    incoming: (id) => `${releases}/.incoming-${id}`,
    link: (id) => `${releases}/.link-${id}`,
    trash: (tag) => `${releases}/.trash-${tag}`,
  };
}

/** splitTargetPath reads `TARGET:PATH` (`@web:/var/www/site`): the target is what comes before the first `:/`. */
export function splitTargetPath(text: string): { target: string; path: string } {
  const i = text.indexOf(':/');
  if (i <= 0) throw new MpopError('MPOP_USAGE', `"${text}" is not TARGET:PATH; write it as @web:/var/www/site (a node, @group, glob or list, a colon, an absolute path)`);
  return { target: text.slice(0, i), path: text.slice(i + 1) };
}

/** newReleaseId names a release made at `now`: UTC to the second and 4 random hex digits. */
export function newReleaseId(now: Date = new Date()): string {
  return `${stamp(now)}-${randomBytes(2).toString('hex')}`;
}

/** releaseAfter returns `id`, or one that sorts after `newest` when a clock behind the node's last deploy would sort it first. */
export function releaseAfter(id: string, newest: string | undefined): string {
  if (!newest || id > newest) return id;
  const t = releaseTime(newest)!;
  return `${stamp(new Date(t.getTime() + 1000))}-${id.slice(-4)}`;
}

/** releaseTime reads the time a release id was made at (undefined for another name). */
export function releaseTime(id: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(id);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** PathKind is what PATH is on a node. */
export type PathKind = 'missing' | 'release-link' | 'folder' | 'foreign-link' | 'other';

/** NodeState is the layout as found on a node. */
export interface NodeState {
  kind: PathKind;
  /** the live release (PATH's symlink target) when kind is release-link */
  live?: string;
  /** PATH's symlink text when it is a symlink */
  linkText?: string;
  /** release ids, oldest first */
  releases: string[];
  /** leftovers of interrupted runs (.incoming-*, .link-*, .trash-*) */
  junk: string[];
  /** other names found in the releases folder (left alone) */
  strangers: string[];
  /** whether PATH.releases exists */
  hasReleasesDir: boolean;
}

/**
 * parseProbe reads the NUL-separated output of `find PATH PATH.releases -maxdepth 1 -printf '%d\0%y\0%p\0%l\0'`
 * (start points at depth 0; the releases folder's entries at depth 1; a plain folder PATH's entries are ignored).
 */
export function parseProbe(p: DeployPaths, out: string): NodeState {
  const f = out.split('\0');
  const st: NodeState = { kind: 'missing', releases: [], junk: [], strangers: [], hasReleasesDir: false };
  for (let i = 0; i + 3 < f.length; i += 4) {
    const [depth, type, path, link] = [f[i]!, f[i + 1]!, f[i + 2]!, f[i + 3]!];
    if (depth === '0' && path === p.path) {
      if (type === 'd') st.kind = 'folder';
      else if (type === 'l') {
        st.linkText = link;
        const id = releaseOfLink(p, link);
        st.kind = id ? 'release-link' : 'foreign-link';
        if (id) st.live = id;
      } else st.kind = 'other';
    } else if (depth === '0' && path === p.releases) st.hasReleasesDir = type === 'd';
    else if (depth === '1' && path.startsWith(p.releases + '/')) {
      const name = path.slice(p.releases.length + 1);
      if (type === 'd' && RELEASE_ID.test(name)) st.releases.push(name);
      else if (JUNK.test(name)) st.junk.push(name);
      else st.strangers.push(name);
    }
  }
  st.releases.sort();
  if (st.live && !st.releases.includes(st.live)) st.kind = 'foreign-link'; // points at a release that is not there
  return st;
}

/** releaseOfLink reads the release a symlink's text names (relative as deploy writes it, or absolute), if any. */
function releaseOfLink(p: DeployPaths, link: string): string | undefined {
  const abs = posix.normalize(posix.isAbsolute(link) ? link : posix.join(posix.dirname(p.path), link));
  if (posix.dirname(abs) !== p.releases) return undefined;
  const id = posix.basename(abs);
  return RELEASE_ID.test(id) ? id : undefined;
}

/** previousOf is the newest release older than `live` (what a rollback goes back to). */
export function previousOf(st: NodeState): string | undefined {
  if (!st.live) return undefined;
  return st.releases.filter((r) => r < st.live!).pop();
}

/** stale lists the releases newer than the live one: never switched in, or rolled away from; they go. With no live release, none (they are left as found). */
export function stale(st: NodeState): string[] {
  return st.live ? st.releases.filter((r) => r > st.live!) : [];
}

/** prunable lists the releases past the newest `keep` (never the live one or the one before it). */
export function prunable(releases: string[], live: string, keep: number): string[] {
  const older = releases.filter((r) => r <= live);
  const kept = new Set(older.slice(-Math.max(2, keep)));
  return older.filter((r) => !kept.has(r));
}
