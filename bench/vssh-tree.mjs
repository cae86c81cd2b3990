// vssh-tree: a tree of 10,000 small files (100 folders of 100 files, 1–8 KiB each, the same bytes every
// run) over loopback. The first copy to a fresh destination: `vssh put` against `rsync -a` and `scp -r`;
// then a re-sync with nothing changed: `vssh sync` against `rsync -a` again. A local `cp -a` is the floor.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, tempDir } from './lib/cleanup.mjs';
import { runIfMain } from './lib/main.mjs';
import { scratchBase, where } from './lib/scratch.mjs';
import { run as sh, timeOnce } from './lib/spawn.mjs';
import { negotiated, scpProtocol, sshVersions, startSshd } from './lib/sshd.mjs';
import { ratio, summarize } from './lib/stats.mjs';
import { makeTree, measureTree, TREE } from './lib/tree.mjs';
import { NODE, VSSH, scratchVssh, startServe, vsshVersion, withoutCaCerts } from './lib/vssh.mjs';

const RUNS = 3;

/** run makes the tree, starts the servers, times each copy and re-sync in turn and returns the results as JSON. */
export async function run() {
  try {
    const scratch = scratchBase(512 * 1024 * 1024);
    const dir = tempDir('meshpop-bench-tree-', scratch.base);
    const src = join(dir, 'tree');
    const shape = makeTree(src);
    const dest = join(dir, 'dest');

    const vault = scratchVssh();
    const daemon = await startServe(vault);
    const sshd = await startSshd();
    const vsshEnv = { env: withoutCaCerts(vault.env) };
    const scpMode = scpProtocol(sshd, dir);
    const { cipher } = negotiated(sshd);
    const expectVssh = (files, unchanged) => (out) => {
      const s = JSON.parse(out);
      if (s.files !== files || s.unchanged !== unchanged || s.failed.length) throw new Error(`vssh copied ${s.files} files (${s.unchanged} unchanged, ${s.failed.length} failed); expected ${files} and ${unchanged}`);
    };
    const expectTree = (label) => {
      const got = measureTree(dest);
      if (got.files !== shape.files || got.bytes !== shape.bytes) throw new Error(`${label} left ${got.files} files, ${got.bytes} bytes; the source has ${shape.files}, ${shape.bytes}`);
    };

    const firstCopy = [
      { label: 'vssh put', command: '`vssh put --json DIR n1:DEST`', cmd: [process.execPath, [VSSH, 'put', '--json', src, `${NODE}:${dest}`], vsshEnv], check: expectVssh(shape.files, 0) },
      { label: 'rsync over ssh', command: '`rsync -a -e ssh DIR/ HOST:DEST/`', cmd: ['rsync', ['-a', '-e', sshd.rsh, `${src}/`, `${sshd.target}:${dest}/`]] },
      { label: 'scp -r', command: '`scp -r DIR HOST:DEST`', cmd: ['scp', ['-r', ...sshd.scp, src, `${sshd.target}:${dest}`]] },
      { label: 'floor: local copy', command: '`cp -a DIR DEST` on this machine', cmd: ['cp', ['-a', src, dest]] },
    ];
    const first = timeRounds(firstCopy, () => rmSync(dest, { recursive: true, force: true }), (t) => expectTree(t.label));

    // Re-sync: each tool's own earlier copy is the destination; nothing changed since.
    const vDest = `${dest}-vssh`;
    const rDest = `${dest}-rsync`;
    sh(process.execPath, [VSSH, 'put', '--json', src, `${NODE}:${vDest}`], vsshEnv);
    sh('rsync', ['-a', '-e', sshd.rsh, `${src}/`, `${sshd.target}:${rDest}/`]);
    const resync = [
      { label: 'vssh sync, nothing changed', command: '`vssh sync --json DIR n1:DEST`', cmd: [process.execPath, [VSSH, 'sync', '--json', src, `${NODE}:${vDest}`], vsshEnv], check: expectVssh(0, shape.files) },
      { label: 'rsync over ssh, nothing changed', command: '`rsync -a -e ssh DIR/ HOST:DEST/`', cmd: ['rsync', ['-a', '-e', sshd.rsh, `${src}/`, `${sshd.target}:${rDest}/`]] },
    ];
    const again = timeRounds(resync, () => {}, () => {});
    // The fixed cost of any put: the CLI's start, the key from the agent, a connection, one small file.
    const one = join(dir, 'one.bin');
    writeFileSync(one, Buffer.alloc(1024, 1));
    const oneCopy = [{ label: 'floor: vssh put of one 1 KiB file', command: '`vssh put --json FILE n1:DEST`', cmd: [process.execPath, [VSSH, 'put', '--json', one, `${NODE}:${dest}-one`], vsshEnv], check: expectVssh(1, 0) }];
    const [start] = timeRounds(oneCopy, () => rmSync(`${dest}-one`, { force: true }), () => {});

    const [vPut, rFirst, scpFirst, cp] = first;
    const [vSync, rSync] = again;
    await sshd.stop();
    await daemon.stop();
    const mb = (shape.bytes / 1e6).toFixed(1);
    return {
      scenario: 'vssh-tree',
      layout: 'versus',
      goal: 'beat', // issue 4: beat OpenSSH, scp and rsync on each
      unit: 's',
      columns: ['median', 'min', 'max'],
      title: 'Copying a tree of 10,000 small files: `vssh put` / `vssh sync` vs `rsync` and `scp -r`',
      about:
        `A tree of ${TREE.folders} folders of ${TREE.files} files, ${shape.files} files of ${TREE.minSize / 1024}–${TREE.maxSize / 1024} KiB (${mb} MB in all, the same bytes and mtimes every run), ${where(scratch)}; the destinations are there too. ` +
        `A \`vssh serve\` daemon and an OpenSSH \`sshd\` run on 127.0.0.1 as child processes. **First copy:** each tool copies the tree ${RUNS} times to a destination that does not exist ` +
        '(removed, untimed, before every run), the tools taking turns run by run, and every copy is checked for its file count and bytes. ' +
        `**Re-sync:** each tool's own copy made before (untimed) is the destination, nothing has changed since, and each runs ${RUNS} times; vssh and rsync both skip files whose size and mtime match. ` +
        `Each run is one whole client process. scp uses the ${scpMode} (OpenSSH's default); ssh encrypts with ${cipher}, vssh on loopback sends in clear with SHA-256 over every file. ` +
        (process.env.NODE_EXTRA_CA_CERTS ? 'vssh runs without NODE_EXTRA_CA_CERTS, which this machine sets (it slows every Node start; the exec table measures by how much). ' : '') +
        '`cp -a` copies the tree on this machine with no network: the floor of a first copy. A `vssh put` of one 1 KiB file is the fixed cost that every put and sync pays (starting the CLI, the key from the vault agent, a connection, one file).',
      tools: { node: process.version, vssh: vsshVersion(), ...sshVersions() },
      rows: [...first, ...again, start],
      comparisons: [
        { label: 'first copy', vssh: vPut.median, other: rFirst.median, vsshRow: vPut.label, otherRow: rFirst.label },
        { label: 'first copy', vssh: vPut.median, other: scpFirst.median, vsshRow: vPut.label, otherRow: scpFirst.label },
        { label: 're-sync, nothing changed', vssh: vSync.median, other: rSync.median, vsshRow: vSync.label, otherRow: rSync.label },
      ],
      reading: readTree({ vPut, rFirst, scpFirst, cp, vSync, rSync, start }),
    };
  } finally {
    cleanup();
  }
}

/**
 * timeRounds runs every tool `RUNS` times, taking turns run by run (so a slow patch of the machine falls
 * on every tool alike), with `before()` untimed before each run and `after(tool)` untimed after it, and
 * returns one row per tool.
 */
function timeRounds(tools, before, after) {
  const times = tools.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    for (const [i, t] of tools.entries()) {
      before();
      const { ms, out } = timeOnce(...t.cmd);
      t.check?.(out);
      after(t);
      times[i].push(ms);
    }
  }
  return tools.map((t, i) => ({ label: t.label, command: t.command, ...summarize(times[i]) }));
}

/** readTree says in a few sentences what the medians mean. */
function readTree({ vPut, rFirst, scpFirst, cp, vSync, rSync, start }) {
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const vs = (a, b) => (a <= b ? `${ratio(b, a)}× faster than` : `${ratio(a, b)}× slower than`);
  return (
    `A first copy of the 10,000 files takes \`vssh put\` ${s(vPut.median)} (median): ${vs(vPut.median, rFirst.median)} rsync (${s(rFirst.median)}) and ${vs(vPut.median, scpFirst.median)} \`scp -r\` (${s(scpFirst.median)}), ` +
    `which asks for each file in turn over SFTP. Copying the tree locally with \`cp -a\` takes ${s(cp.median)}. ` +
    `With nothing changed, \`vssh sync\` takes ${s(vSync.median)}, ${vs(vSync.median, rSync.median)} rsync (${s(rSync.median)}); both only compare sizes and mtimes, so this is the cost of starting up, listing 10,000 files on each side and exchanging the lists. ` +
    `Of vssh's time, ${s(start.median)} is the fixed cost that a put of a single 1 KiB file also pays.`
  );
}

await runIfMain(import.meta.url, run);
