import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { VsshClient } from '@meshpop/vssh';
import { MpopError, errorInfo } from '../errors.js';
import { DeployPaths, NodeState, parseProbe } from './layout.js';

/** ENV makes the coreutils' messages plain English, so errors read the same everywhere. */
const ENV = { LC_ALL: 'C' };

/** Remote is one node's side of the layout: every change made by an exec with argv (no shell) through vssh. */
export class Remote {
  constructor(
    readonly node: string,
    readonly client: VsshClient,
    readonly p: DeployPaths,
    readonly signal?: AbortSignal,
  ) {}

  /** run runs argv on the node and returns its stdout; a non-zero exit throws MPOP_DEPLOY naming `what` and the node's stderr. */
  async run(argv: string[], what: string, opts: { okExit?: number[] } = {}): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
    let r;
    try {
      // no timeout of its own (a copy of a large release takes what it takes): the node's policy ceiling and --timeout bound it
      r = await this.client.exec({ argv }, { env: ENV, ...(this.signal ? { signal: this.signal } : {}) });
    } catch (err) {
      const info = errorInfo(err);
      if (info.code === 'VSSH_POLICY') throw new MpopError('MPOP_DEPLOY', `${what} on ${this.node} was refused by its vssh policy (${info.message}); deploy runs flock, find, mkdir, cp, mv, ln and rm there`, { cause: err });
      throw err;
    }
    const stdout = r.stdout.toString('utf8');
    const stderr = r.stderr.toString('utf8');
    if (r.exitCode !== 0 && !(opts.okExit ?? []).includes(r.exitCode ?? -1)) {
      const how = r.timedOut ? 'timed out' : r.signal ? `was killed by ${r.signal}` : `exited ${r.exitCode}`;
      throw new MpopError('MPOP_DEPLOY', `${what} on ${this.node} failed (${argv[0]} ${how}): ${stderr.trim().slice(0, 500) || 'no message'}`);
    }
    return { stdout, stderr, exitCode: r.exitCode };
  }

  /** checkPolicy asks the node's vssh policy whether the releases folder may be read (allowPaths); a refusal is a clear MPOP_DEPLOY. */
  async checkPolicy(): Promise<void> {
    try {
      await this.client.stat(this.p.releases);
    } catch (err) {
      const info = errorInfo(err);
      if (info.code === 'VSSH_POLICY') {
        throw new MpopError('MPOP_DEPLOY', `${this.node}'s vssh policy does not allow ${this.p.releases}, where deploy keeps the releases of ${this.p.path} (${info.message}); allow the folder that holds ${this.p.path}`, { cause: err });
      }
      // not there yet (a first deploy), or not readable: the layout probe says which
    }
  }

  /** probe reads PATH and the releases folder in one find (NUL-separated, so any name reads back exactly). */
  async probe(): Promise<NodeState> {
    const r = await this.run(['find', this.p.path, this.p.releases, '-maxdepth', '1', '-printf', '%d\\0%y\\0%p\\0%l\\0'], 'reading the layout', { okExit: [1] });
    if (r.exitCode === 1) {
      // find exits 1 for a start point that does not exist; anything else it says is a real problem
      const other = r.stderr.split('\n').filter((l) => l.trim() && !/No such file or directory/.test(l));
      if (other.length) throw new MpopError('MPOP_DEPLOY', `reading the layout on ${this.node} failed: ${other.join('; ').slice(0, 500)}`);
    }
    return parseProbe(this.p, r.stdout);
  }

  /** mkdirReleases makes PATH.releases (and PATH's folder) when missing. */
  async mkdirReleases(): Promise<void> {
    await this.run(['mkdir', '-p', '--', this.p.releases], `making ${this.p.releases}`);
  }

  /** copyRelease fills `to` with a copy of release `from` on the node itself (reflinks where the filesystem has them). */
  async copyRelease(from: string, to: string): Promise<void> {
    await this.run(['cp', '-a', '--reflink=auto', '--no-target-directory', '--', from, to], `copying the live release to ${to}`);
  }

  /** mkdir makes an empty folder (the first release's). */
  async mkdir(dir: string): Promise<void> {
    await this.run(['mkdir', '--', dir], `making ${dir}`);
  }

  /** rename renames a file or folder with rename(2) (mv -T: never into a folder of that name). */
  async rename(from: string, to: string): Promise<void> {
    await this.run(['mv', '-T', '--', from, to], `renaming ${from} to ${to}`);
  }

  /**
   * switchTo points PATH at release `id` atomically: a new symlink is made in the releases folder, then
   * renamed over PATH, so PATH is always the old link or the new one. `id` undefined removes PATH (the state
   * before a first deploy).
   */
  async switchTo(id: string | undefined): Promise<void> {
    if (id === undefined) {
      await this.run(['rm', '-f', '--', this.p.path], `removing ${this.p.path}`);
      return;
    }
    const tmp = this.p.link(`${id}-${randomBytes(2).toString('hex')}`);
    await this.run(['ln', '-s', '--', this.p.linkTo(id), tmp], `making the link to ${id}`);
    await this.rename(tmp, this.p.path);
  }

  /** remove takes names in the releases folder away: renamed into one trash folder first (each rename atomic), then removed. */
  async remove(names: string[]): Promise<void> {
    if (!names.length) return;
    const trash = this.p.trash(randomBytes(4).toString('hex'));
    await this.run(['mkdir', '--', trash], `making ${trash}`);
    await this.run(['mv', '-t', trash, '--', ...names.map((n) => `${this.p.releases}/${n}`)], 'moving old releases aside');
    await this.run(['rm', '-rf', '--', trash], `removing ${trash}`);
  }

  /** removeJunk removes what interrupted runs left (.incoming-*, .link-*, .trash-*). */
  async removeJunk(names: string[]): Promise<void> {
    if (!names.length) return;
    await this.run(['rm', '-rf', '--', ...names.map((n) => `${this.p.releases}/${n}`)], 'removing what an interrupted deploy left');
  }

  /**
   * lock takes deploy's lock on PATH until the returned release function is called: a `flock` held by a
   * command on the node that reads its stdin until it ends. Releasing ends that stdin and waits for the
   * command to exit (so the lock is free when it returns); a controller killed or cut off, or a daemon that
   * dies, closes it as well, so a lock never outlives the run that took it. Another deploy or rollback of PATH
   * meanwhile is refused instead of taking this one's release for a leftover.
   */
  async lock(): Promise<() => Promise<void>> {
    const stdin = new PassThrough();
    let locked!: () => void;
    const held = new Promise<void>((r) => (locked = r));
    const file = `${this.p.releases}/.lock`;
    const run = this.client.exec(
      { argv: ['flock', '--nonblock', '--conflict-exit-code', '75', '--', file, 'sh', '-c', 'echo locked && exec cat >/dev/null'] },
      { env: ENV, stdin, onStdout: () => locked(), ...(this.signal ? { signal: this.signal } : {}) },
    );
    const ended = run.then(
      (r) => {
        if (r.exitCode === 75) throw new MpopError('MPOP_DEPLOY', `another deploy or rollback of ${this.p.path} is running on ${this.node} (it holds ${file}); wait for it, or stop it`);
        throw new MpopError('MPOP_DEPLOY', `taking the lock ${file} on ${this.node} failed (flock exited ${r.exitCode}): ${r.stderr.toString('utf8').trim().slice(0, 300) || 'no message'}`);
      },
      (err: unknown) => {
        if (errorInfo(err).code === 'VSSH_POLICY') throw new MpopError('MPOP_DEPLOY', `taking the lock on ${this.node} was refused by its vssh policy (${errorInfo(err).message}); deploy runs flock, find, mkdir, cp, mv, ln and rm there`, { cause: err });
        throw err;
      },
    );
    ended.catch(() => undefined); // once released, its end is expected
    try {
      await Promise.race([held, ended]);
    } catch (err) {
      stdin.end();
      throw err;
    }
    return async () => {
      stdin.end();
      await run.catch(() => undefined);
    };
  }

  /** hook runs a user's shell command (--restart, --health) in the release's folder (/ when there is none), with MPOP_PATH, MPOP_RELEASE and MPOP_RELEASE_DIR set. */
  async hook(shell: string, timeoutMs: number, release: string | undefined): Promise<{ ok: boolean; exitCode: number | null; output: string; timedOut: boolean }> {
    const opts = { cwd: release ? this.p.release(release) : '/', env: { MPOP_PATH: this.p.path, MPOP_RELEASE: release ?? '', MPOP_RELEASE_DIR: release ? this.p.release(release) : '' }, maxOutputBytes: 64 * 1024, ...(this.signal ? { signal: this.signal } : {}) };
    const r = await this.client.exec({ shell }, { ...opts, timeoutMs }).catch((err: unknown) => {
      // a node whose policy caps timeouts below ours: run it under the node's own ceiling instead
      if (errorInfo(err).code === 'VSSH_POLICY' && /maxTimeoutMs/.test(errorInfo(err).message)) return this.client.exec({ shell }, opts);
      throw err;
    });
    const output = (r.stdout.toString('utf8') + r.stderr.toString('utf8')).trim();
    return { ok: r.exitCode === 0, exitCode: r.exitCode, output, timedOut: r.timedOut };
  }
}
