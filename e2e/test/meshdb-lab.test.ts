import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, Result, VSSH_BIN, lan, waitFor } from '../src/index.js';

const isRoot = process.getuid?.() === 0;
const MESHDB_BIN = fileURLToPath(new URL('../../meshdb/bin/run.js', import.meta.url));

/** An AWS access key id's shape (AKIA + 16 of [A-Z2-7]), made for this run: it must never be found by a search. */
const SECRET = 'AKIA' + Array.from(randomBytes(16), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');
const N2_MARK = `n2-only-${randomBytes(4).toString('hex')}`;
const N3_MARK = `n3-only-${randomBytes(4).toString('hex')}`;
const BLOB_MARK = `blob-${randomBytes(4).toString('hex')}`;
const OUTSIDE_MARK = `outside-${randomBytes(4).toString('hex')}`;
const DEPS_MARK = `deps-${randomBytes(4).toString('hex')}`;
const EVIL_MARK = `evil-${randomBytes(4).toString('hex')}`;
/** EVIL_NAME is a file name that would forge a result line (and clear the screen) if printed as it is. */
const EVIL_NAME = 'evil\nn9:/etc/shadow:1: root\x1b[2J.md';

type Hit = { node: string; path: string; ref: string; lines: { line: number; text: string }[] };
type NodeRun = { node: string; ok: boolean; stale: boolean; error?: { code: string; message: string }; bytesRead: number; added: number; changed: number; unchanged: number; deleted: number; skipped: Record<string, number> };
type NodeStatus = { node: string; ok: boolean; files: number; skipped: Record<string, number>; roots: string[]; stale: boolean; error?: { code: string } };

/**
 * meshdb on the coordinator's machine, over a real WireGuard mesh: every node's vssh daemon serves the same
 * path (SITE) with different files behind it (a bind mount private to that daemon's mount namespace, as
 * each machine of a fleet has its own disk), so what the hub finds, reads and loses is each node's own.
 */
describe.skipIf(!isRoot)('meshdb over the lab mesh', () => {
  let mesh: Mesh;
  let work: string;
  let site: string;
  let all: Host[];
  const tree = (h: Host): string => join(work, 'trees', h.name);
  /** name is a host's name in the index: the hub is the mesh's `coordinator` */
  const name = (h: Host): string => (h === mesh.hub ? 'coordinator' : h.name);
  const meshdb = (args: string[], timeoutMs = 120_000): Promise<Result> => mesh.lab.exec(mesh.hub, process.execPath, [MESHDB_BIN, ...args], { timeoutMs });
  const json = <T>(r: Result): T => {
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  };
  const hitsOf = async (args: string[]): Promise<Hit[]> => {
    const r = await meshdb(['search', ...args, '--json']);
    expect([0, 1], r.stderr).toContain(r.code);
    return json<{ hits: Hit[] }>(r).hits;
  };
  const serving = (h: Host): number => mesh.lab.log(h, 'vssh').split(`vssh serving on ${mesh.ips.get(h.name)}:48291`).length - 1;
  /** startVssh runs `vssh serve` on a host with its own tree mounted at SITE (the mount is the daemon's alone). */
  const startVssh = async (h: Host): Promise<ChildProcess> => {
    const before = serving(h);
    const child = mesh.lab.start(h, '/bin/sh', ['-c', 'mount --bind "$1" "$2" && exec "$3" "$4" serve', 'vssh-site', tree(h), site, process.execPath, VSSH_BIN], 'vssh');
    await waitFor(`vssh serve on ${h.name}`, () => {
      if (child.exitCode !== null) throw new Error(`vssh on ${h.name} exited: ${mesh.lab.log(h, 'vssh')}`);
      return serving(h) > before;
    }, 20_000);
    return child;
  };
  const put = (h: Host, rel: string, body: string | Buffer): void => {
    mkdirSync(dirname(join(tree(h), rel)), { recursive: true });
    writeFileSync(join(tree(h), rel), body);
  };

  /** plant gives each node its tree: text files of its own, and what must never be indexed. */
  const plant = (h: Host): void => {
    const n = name(h);
    put(h, 'README.md', `# ${n}\nThis tree belongs to ${n}.\nWe rotate the deploy keys weekly.\n`);
    put(h, 'src/app.ts', [`// the app on ${n}`, 'export function handle(): void {', `  const where = '${h.name === 'n2' ? N2_MARK : n}';`, h.name === 'n1' ? '  // TODO(alice): retry on ENOSPC' : h.name === 'n2' ? '  // TODO(bob): log the caller' : '  // nothing to do', '}', ''].join('\n'));
    if (h.name === 'n3') put(h, 'docs/runbook.md', Array.from({ length: 10 }, (_, i) => `step ${i + 1}: ${i === 6 ? N3_MARK : 'check the disks'}`).join('\n') + '\n');
    if (h.name === 'n2') put(h, 'docs/old.md', 'an old page to be deleted\n');
    if (h.name === 'n1') put(h, EVIL_NAME, `${EVIL_MARK}\n`);
    put(h, '.env', `AWS_ACCESS_KEY_ID=${SECRET}\nREGION=eu-west-1\n`); // secret-name
    put(h, 'config/settings.txt', `region = eu-west-1\nkey id ${SECRET}\n`); // secret-content
    put(h, 'data/blob.txt', Buffer.concat([Buffer.from(`${BLOB_MARK} `), Buffer.alloc(64), Buffer.from(`${BLOB_MARK}\n`)])); // binary
    put(h, 'node_modules/left-pad/index.js', `module.exports = '${DEPS_MARK}';\n`); // ignored
    put(h, '.gitignore', '*.log\n');
    put(h, 'debug.log', `${DEPS_MARK} in a log\n`); // gitignore
    symlinkSync(join(work, 'outside.txt'), join(tree(h), 'leak.txt')); // a link out of the tree: never followed
  };
  /** textFiles is what a node has indexed once planted: README.md, src/app.ts and .gitignore, and n1's evil name, n2's and n3's docs. */
  const textFiles = (h: Host): number => 3 + (h.name !== 'hub' ? 1 : 0);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'meshdb-lab-'));
    site = join(work, 'site');
    mkdirSync(site);
    writeFileSync(join(work, 'outside.txt'), `${OUTSIDE_MARK}\n`);
    mesh = await lan(3);
    all = [mesh.hub, ...mesh.nodes];
    for (const h of all) {
      mkdirSync(tree(h), { recursive: true });
      plant(h);
    }
    for (const h of all) await startVssh(h);
  }, 240_000);
  afterAll(async () => {
    await mesh?.lab.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('index all SITE walks every node of the mesh over vssh, each its own tree', async () => {
    const r = await meshdb(['index', 'all', site, '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const runs = json<{ nodes: NodeRun[] }>(r).nodes;
    expect(runs.map((x) => x.node).sort()).toEqual(all.map(name).sort());
    for (const h of all) {
      const x = runs.find((y) => y.node === name(h))!;
      expect(x, name(h)).toMatchObject({ ok: true, stale: false, added: textFiles(h), changed: 0, deleted: 0 });
      expect(x.skipped, name(h)).toMatchObject({ 'secret-name': 1, 'secret-content': 1, binary: 1, ignored: 1, gitignore: 1 });
    }
  }, 180_000);

  it('status --json: per-node files, skipped by reason (the secrets among them), roots, none stale', async () => {
    const r = await meshdb(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const nodes = json<{ nodes: NodeStatus[] }>(r).nodes;
    expect(nodes.map((n) => n.node).sort()).toEqual(all.map(name).sort());
    for (const h of all) {
      expect(nodes.find((n) => n.node === name(h)), name(h)).toMatchObject({
        ok: true, stale: false, files: textFiles(h), roots: [site],
        skipped: { 'secret-name': 1, 'secret-content': 1, binary: 1, ignored: 1, gitignore: 1 },
      });
    }
    const text = await meshdb(['status']);
    expect(text.code).toBe(0);
    for (const h of all) expect(text.stdout).toContain(name(h));
  });

  it('search -F finds a string that only n2 has, on n2 only, as node:path:line', async () => {
    const r = await meshdb(['search', '-F', N2_MARK]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`n2:${site}/src/app.ts:3:   const where = '${N2_MARK}';\n`);
    const hits = await hitsOf(['-F', N2_MARK]);
    expect(hits).toMatchObject([{ node: 'n2', path: `${site}/src/app.ts`, ref: `n2:${site}/src/app.ts:3`, lines: [{ line: 3 }] }]);
    // case-sensitive unless -i
    expect((await meshdb(['search', '-F', N2_MARK.toUpperCase()])).code).toBe(1);
    expect((await hitsOf(['-F', '-i', N2_MARK.toUpperCase()])).map((h) => h.node)).toEqual(['n2']);
  });

  it('search (words) ranks files on every node; --node narrows it', async () => {
    const hits = await hitsOf(['rotate deploy keys']);
    expect(hits.map((h) => h.node).sort()).toEqual(all.map(name).sort());
    for (const h of hits) expect(h.path).toBe(`${site}/README.md`);
    expect(hits[0]!.lines.map((l) => l.line)).toContain(3);
    const one = await hitsOf(['rotate deploy keys', '--node', 'n3']);
    expect(one.map((h) => h.ref)).toEqual([`n3:${site}/README.md:3`]);
    const none = await meshdb(['search', 'nowhere-to-be-found']);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
  });

  it('search --regex matches per line, on the nodes that have it', async () => {
    const r = await meshdb(['search', '--regex', 'TODO\\((\\w+)\\)']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      `n1:${site}/src/app.ts:4:   // TODO(alice): retry on ENOSPC`,
      `n2:${site}/src/app.ts:4:   // TODO(bob): log the caller`,
    ]);
    const bad = await meshdb(['search', '--regex', 'TODO(']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^meshdb: /);
  });

  it('a hostile file name cannot forge a result line or drive the terminal: control characters are printed escaped', async () => {
    const r = await meshdb(['search', '-F', EVIL_MARK]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`n1:${site}/evil\\x0an9:/etc/shadow:1: root\\x1b[2J.md:1: ${EVIL_MARK}\n`);
    const hits = await hitsOf(['-F', EVIL_MARK]);
    expect(hits.map((h) => h.path)).toEqual([`${site}/${EVIL_NAME}`]); // --json keeps the name as it is
    const f = await meshdb(['find', 'evil']);
    expect(f.stdout.split('\n').filter(Boolean)).toEqual([`n1:${site}/evil\\x0an9:/etc/shadow:1: root\\x1b[2J.md`]);
  });

  it('find by name and by glob', async () => {
    const r = await meshdb(['find', 'runbook', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ hits: { ref: string }[] }>(r).hits.map((h) => h.ref)).toEqual([`n3:${site}/docs/runbook.md`]);
    const glob = await meshdb(['find', '*.ts', '--json']);
    expect(json<{ hits: { ref: string }[] }>(glob).hits.map((h) => h.ref).sort()).toEqual(all.map((h) => `${name(h)}:${site}/src/app.ts`).sort());
    expect((await meshdb(['find', 'no-such-file'])).code).toBe(1);
  });

  it('read node:path --lines a-b fetches the file from that node now (the same path differs per node)', async () => {
    const r = await meshdb(['read', `n3:${site}/docs/runbook.md`, '--lines', '6-8']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`step 6: check the disks\nstep 7: ${N3_MARK}\nstep 8: check the disks\n`);
    const j = json<{ node: string; from: number; to: number; totalLines: number }>(await meshdb(['read', `n3:${site}/docs/runbook.md:6-8`, '--json']));
    expect(j).toMatchObject({ node: 'n3', from: 6, to: 8, totalLines: 10 });
    for (const h of mesh.nodes) {
      const readme = await meshdb(['read', `${h.name}:${site}/README.md`, '--lines', '2']);
      expect(readme.stdout).toBe(`This tree belongs to ${h.name}.\n`);
    }
    const missing = await meshdb(['read', `n1:${site}/docs/runbook.md`]); // only n3 has it
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`n1:${site}/docs/runbook.md does not exist`);
    const bin = await meshdb(['read', `n1:${site}/data/blob.txt`]);
    expect(bin.code).toBe(2);
    expect(bin.stderr).toContain('a binary file');
  });

  it('the planted secret is never found, by any kind of search, nor stored in the hub\'s index files', async () => {
    for (const args of [['-F', SECRET], ['-F', '-i', SECRET.toLowerCase()], ['-F', SECRET.slice(0, 12)], ['--regex', 'AKIA[0-9A-Z]{16}'], [SECRET], ['--fts', `${SECRET}*`], ['AWS_ACCESS_KEY_ID'], ['key id']]) {
      const hits = await hitsOf(args);
      for (const h of hits) expect(h.path, args.join(' ')).not.toMatch(/\.env$|settings\.txt$/);
      expect(JSON.stringify(hits), args.join(' ')).not.toContain(SECRET);
    }
    // nor what is binary, ignored, gitignored, or behind a link out of the tree
    for (const mark of [BLOB_MARK, DEPS_MARK, OUTSIDE_MARK]) expect(await hitsOf(['-F', mark]), mark).toEqual([]);
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk : (f: string) => files.push(f))(join(d, e.name));
    };
    walk(join(mesh.hub.home, 'meshdb'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(f).includes(SECRET), f).toBe(false);
  });

  it('reindex picks up a changed file and drops a deleted one, reading nothing else', async () => {
    const n1 = mesh.lab.host('n1');
    const n2 = mesh.lab.host('n2');
    const fresh = `changed-${randomBytes(4).toString('hex')}`;
    appendFileSync(join(tree(n1), 'src/app.ts'), `// ${fresh}\n`);
    unlinkSync(join(tree(n2), 'docs/old.md'));
    const r = await meshdb(['reindex', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const runs = json<{ nodes: NodeRun[] }>(r).nodes;
    expect(runs.find((x) => x.node === 'n1')).toMatchObject({ ok: true, added: 0, changed: 1, deleted: 0 });
    expect(runs.find((x) => x.node === 'n2')).toMatchObject({ ok: true, added: 0, changed: 0, deleted: 1 });
    for (const n of ['n3', 'coordinator']) expect(runs.find((x) => x.node === n), n).toMatchObject({ ok: true, added: 0, changed: 0, deleted: 0, bytesRead: 0 });
    expect(runs.find((x) => x.node === 'n1')!.bytesRead).toBe(readFileSync(join(tree(n1), 'src/app.ts')).length);
    expect((await hitsOf(['-F', fresh])).map((h) => h.ref)).toEqual([`n1:${site}/src/app.ts:6`]);
    expect((await hitsOf(['deleted'])).length).toBe(0);
    expect(json<{ hits: unknown[] }>(await meshdb(['find', 'old.md', '--json'])).hits).toEqual([]);
  }, 120_000);

  it('a node whose daemon dies mid-way is marked stale and keeps its entries; the others finish; it resumes later', async () => {
    const n3 = mesh.lab.host('n3');
    // Enough new files on n3 that reading them takes several reader batches.
    const FILES = 3000;
    for (let i = 0; i < FILES; i++) put(n3, `bulk/${Math.floor(i / 100)}/f${i}.txt`, `bulk file ${i} on n3\n`.repeat(20));
    const changed = `n1-again-${randomBytes(4).toString('hex')}`;
    appendFileSync(join(tree(mesh.lab.host('n1')), 'README.md'), `${changed}\n`);
    const [daemon] = mesh.lab.processes(n3, 'vssh');
    const pid = daemon!.pid!;
    const children = (): number[] => {
      try {
        return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
      } catch {
        return [];
      }
    };
    const run = meshdb(['reindex', '--json'], 180_000);
    // The daemon runs the reader of each batch as a child (the .gitignore files first, then the new files
    // 400 at a time): it is killed while the third runs, when earlier batches are in.
    const seen = new Set<number>();
    await waitFor('a third reader batch running on n3', () => {
      for (const c of children()) seen.add(c);
      return seen.size >= 3;
    }, 60_000, 5);
    const exited = new Promise((resolve) => daemon!.once('exit', resolve));
    process.kill(pid, 'SIGKILL');
    await exited;
    const r = await run;
    expect(r.code, r.stderr).toBe(1);
    const runs = json<{ nodes: NodeRun[] }>(r).nodes;
    const bad = runs.find((x) => x.node === 'n3')!;
    expect(bad, JSON.stringify(bad)).toMatchObject({ ok: false, stale: true, error: { code: expect.stringMatching(/^VSSH_(CONNECTION_LOST|UNREACHABLE)$/) } });
    expect(runs.find((x) => x.node === 'n1')).toMatchObject({ ok: true, changed: 1 });
    for (const n of ['n2', 'coordinator']) expect(runs.find((x) => x.node === n), n).toMatchObject({ ok: true, stale: false });
    expect((await hitsOf(['-F', changed])).map((h) => h.node)).toEqual(['n1']);

    const st = json<{ nodes: NodeStatus[] }>(await meshdb(['status', '--json'])).nodes.find((n) => n.node === 'n3')!;
    expect(st).toMatchObject({ stale: true, roots: [site], error: { code: bad.error!.code } });
    expect(st.files).toBeGreaterThan(textFiles(n3)); // the batches read before it died are in
    expect(st.files).toBeLessThan(textFiles(n3) + FILES);
    // its old entries are still found, with a note that they may be old
    const old = await meshdb(['search', '-F', N3_MARK]);
    expect(old.code).toBe(0);
    expect(old.stdout).toBe(`n3:${site}/docs/runbook.md:7: step 7: ${N3_MARK}\n`);
    expect(old.stderr).toContain('n3 is stale (its last index failed): its results may be old');

    // with its daemon back, reindex n3 resumes from the manifest: only what was not read yet is read
    await startVssh(n3);
    const again = await meshdb(['reindex', 'n3', '--json'], 180_000);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    const res = json<{ nodes: NodeRun[] }>(again).nodes[0]!;
    expect(res).toMatchObject({ node: 'n3', ok: true, stale: false, changed: 0, deleted: 0 });
    expect(res.added).toBe(textFiles(n3) + FILES - st.files);
    const after = json<{ nodes: NodeStatus[] }>(await meshdb(['status', '--json'])).nodes.find((n) => n.node === 'n3')!;
    expect(after).toMatchObject({ stale: false, files: textFiles(n3) + FILES });
    expect(after.error).toBeUndefined();
    expect((await meshdb(['search', '-F', N3_MARK])).stderr).not.toContain('stale');
  }, 300_000);

  it('forget drops a node\'s whole index; the others stay', async () => {
    const r = await meshdb(['forget', 'n1', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json(r)).toEqual({ node: 'n1', forgotten: true });
    const nodes = json<{ nodes: NodeStatus[] }>(await meshdb(['status', '--json'])).nodes;
    expect(nodes.map((n) => n.node).sort()).toEqual(['coordinator', 'n2', 'n3']);
    expect(await hitsOf(['-F', 'TODO(alice)'])).toEqual([]);
    expect((await hitsOf(['-F', 'TODO(bob)'])).map((h) => h.node)).toEqual(['n2']);
    const again = await meshdb(['forget', 'n1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('n1: had no index\n');
    // a name that would reach out of the shards' folder is refused, and nothing is removed
    const out = await meshdb(['forget', '../meshdb/nodes/n2']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('is not a node name meshdb can keep');
    expect(json<{ nodes: NodeStatus[] }>(await meshdb(['status', '--json'])).nodes.map((n) => n.node)).toContain('n2');
  });
});
