// mpop-deploy: `mpop deploy` of a 10,000-file tree to 10 nodes on loopback, the first time and again with
// nothing changed, against `rsync -a -e ssh` to the same 10 in parallel (10 rsync processes at once, one
// per sshd port). Each vssh node is a `vssh serve` process in a mount namespace of its own, where its own
// folder is bound over one shared path, so all 10 deploy to the same absolute path as a real fleet would.
import { mkdirSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cleanup, tempDir } from './lib/cleanup.mjs';
import { MPOP, nodeNames, startServes, writeNodes } from './lib/fleet.mjs';
import { runIfMain } from './lib/main.mjs';
import { scratchBase, where } from './lib/scratch.mjs';
import { startSshds } from './lib/sshds.mjs';
import { sshVersions, which } from './lib/sshd.mjs';
import { summarize } from './lib/stats.mjs';
import { makeTree, measureTree, TREE } from './lib/tree.mjs';
import { scratchVssh, vsshVersion, withoutCaCerts } from './lib/vssh.mjs';

const NODES = 10;
const RUNS = 3;

/** run makes the tree and the nodes, times each tool in turn, run by run, and returns the results as JSON. */
export async function run() {
  try {
    if (!(process.getuid?.() === 0 && which('unshare'))) throw new Error('mpop-deploy needs root and unshare (each node is a daemon in a mount namespace of its own)');
    const scratch = scratchBase(2 * 1024 * 1024 * 1024);
    const dir = tempDir('meshpop-bench-deploy-', scratch.base);
    const src = join(dir, 'tree');
    const shape = makeTree(src);
    const base = join(dir, 'node-base'); // every node sees its own folder here
    mkdirSync(base);
    const names = nodeNames(NODES);
    const nodeDir = (name) => join(dir, 'nodes', name);
    for (const n of names) mkdirSync(nodeDir(n), { recursive: true });
    const vault = scratchVssh();
    const bind = 'mount --make-rprivate / && mount --bind "$1" "$2" && shift 2 && exec "$@"';
    const fleet = await startServes(vault, names, { wrap: (name) => ['unshare', '--mount', 'sh', '-c', bind, 'sh', nodeDir(name), base] });
    writeNodes(vault.home, fleet.ports);
    const sshds = await startSshds(NODES);
    const rsyncDest = (i) => join(dir, 'rsync', `h${i + 1}`);
    const env = withoutCaCerts(vault.env);

    const site = join(base, 'site');
    const deployArgs = (target) => [MPOP, 'deploy', '--json', src, `${target}:${site}`];
    const checkDeploy = (count) => (out) => {
      const r = JSON.parse(out);
      if (r.counts.ok !== count) throw new Error(`mpop deploy ok on ${r.counts.ok} of ${count} nodes: ${JSON.stringify(r.nodes.find((x) => x.outcome !== 'ok')?.error)}`);
      return r;
    };
    const checkTrees = (label, dirs) => {
      for (const d of dirs) {
        const got = measureTree(d);
        if (got.files !== shape.files || got.bytes !== shape.bytes) throw new Error(`${label} left ${got.files} files, ${got.bytes} bytes in ${d}; the source has ${shape.files}, ${shape.bytes}`);
      }
    };
    const freshNodes = () => {
      for (const n of names) {
        rmSync(join(nodeDir(n), 'site'), { force: true });
        rmSync(join(nodeDir(n), 'site.releases'), { recursive: true, force: true });
      }
    };
    const freshRsync = () => {
      for (let i = 0; i < NODES; i++) rmSync(rsyncDest(i), { recursive: true, force: true });
      mkdirSync(join(dir, 'rsync'), { recursive: true });
    };
    const mpopDone = names.map((n) => join(nodeDir(n), 'site'));
    const rsyncAll = () => parallel(sshds.ports.map((port, i) => ['rsync', ['-a', '-e', ['ssh', ...sshds.sshOptions, '-p', String(port)].join(' '), `${src}/`, `${sshds.user}@127.0.0.1:${rsyncDest(i)}/`]]));

    const first = [
      { label: `mpop deploy to ${NODES} nodes, first`, command: '`mpop deploy DIR all:PATH`, whole process', before: freshNodes, go: () => one(process.execPath, deployArgs('all'), env), check: checkDeploy(NODES), after: () => checkTrees('mpop deploy', mpopDone) },
      { label: `rsync over ssh to ${NODES} hosts, first`, command: `${NODES} × \`rsync -a -e ssh DIR/ HOST:DEST/\` at once`, before: freshRsync, go: rsyncAll, after: () => checkTrees('rsync', Array.from({ length: NODES }, (_, i) => rsyncDest(i))) },
      { label: 'mpop deploy to 1 node, first', command: '`mpop deploy DIR n1:PATH`, whole process', before: freshNodes, go: () => one(process.execPath, deployArgs('n1'), env), check: checkDeploy(1) },
    ];
    const firstRows = await rounds(first);
    // No change: each tool's own earlier copy is there; nothing changed since.
    freshNodes();
    await one(process.execPath, deployArgs('all'), env);
    freshRsync();
    await rsyncAll();
    const again = [
      { label: `mpop deploy to ${NODES} nodes, nothing changed`, command: '`mpop deploy DIR all:PATH` again', go: () => one(process.execPath, deployArgs('all'), env), check: checkDeploy(NODES), after: () => checkTrees('mpop deploy', mpopDone) },
      { label: `rsync over ssh to ${NODES} hosts, nothing changed`, command: `${NODES} × \`rsync -a -e ssh DIR/ HOST:DEST/\` at once, again`, go: rsyncAll },
    ];
    const againRows = await rounds(again);
    const crossed = JSON.parse(await one(process.execPath, deployArgs('all'), env)).nodes[0].crossed;
    await sshds.stop();
    await fleet.stop();

    const [mFirst, rFirst, mOne] = firstRows;
    const [mAgain, rAgain] = againRows;
    const mb = (shape.bytes / 1e6).toFixed(1);
    return {
      scenario: 'mpop-deploy',
      layout: 'versus',
      unit: 's',
      columns: ['median', 'min', 'max'],
      title: `Deploying a tree of 10,000 small files to ${NODES} nodes: \`mpop deploy\` vs \`rsync -e ssh\` in parallel`,
      about:
        `The tree of the vssh-tree table (${TREE.folders} folders of ${TREE.files} files, ${shape.files} files of 1–8 KiB, ${mb} MB), ${where(scratch)}; the nodes' folders are there too. ` +
        `**mpop:** ${NODES} \`vssh serve\` processes on 127.0.0.1, each in a mount namespace of its own where its own folder is bound over one shared path, so every node deploys to the same absolute PATH as on a real fleet; \`mpop deploy --json DIR all:PATH\` is one whole process (oclif, the key from the vault agent, then on every node at once: a new release folder, filled by \`vssh sync\` from a copy of the live release made on the node, switched in by renaming a symlink, old releases pruned). ` +
        `**rsync:** ${NODES} \`rsync -a -e ssh DIR/ HOST:DEST/\` processes started at once, one per port of OpenSSH \`sshd\` (the sshds of the exec table), each to a folder of its own. ` +
        `**First:** the nodes' folders are empty before every run (removed, untimed). **Nothing changed:** each tool's own earlier copy is there; mpop makes a new release anyway (a copy on the node, then a sync that sends nothing: ${crossed.files} files crossed, ${crossed.unchanged} unchanged on the last one), rsync compares and sends nothing. ` +
        `Each tool runs ${RUNS} times, taking turns run by run; every copy is checked for its file count and bytes. ` +
        (process.env.NODE_EXTRA_CA_CERTS ? 'mpop runs without NODE_EXTRA_CA_CERTS, which this machine sets (the exec tables measure what it costs). ' : '') +
        'A deploy to 1 node is the fixed cost and the per-node work without the fan-out.',
      tools: { node: process.version, vssh: vsshVersion(), ...sshVersions() },
      rows: [...firstRows, ...againRows],
      comparisons: [
        { label: `first deploy, ${NODES} nodes`, vssh: mFirst.median, other: rFirst.median, vsshRow: mFirst.label, otherRow: rFirst.label },
        { label: `nothing changed, ${NODES} nodes`, vssh: mAgain.median, other: rAgain.median, vsshRow: mAgain.label, otherRow: rAgain.label },
      ],
      reading: readDeploy({ mFirst, rFirst, mOne, mAgain, rAgain }),
    };
  } finally {
    cleanup();
  }
}

/** one runs `cmd args` to completion (asynchronously, so that other work of this process can go on) and returns its stdout; it throws when the command fails. */
function one(cmd, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (err = (err + c).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')}… failed (${code ?? signal}): ${err.trim()} ${out.slice(0, 500)}`))));
  });
}

/** parallel runs every [cmd, args] at once and waits for all of them. */
function parallel(cmds) {
  return Promise.all(cmds.map(([cmd, args]) => one(cmd, args)));
}

/** rounds runs every tool RUNS times, taking turns run by run, with `before` untimed before and `check`/`after` untimed after, and returns one row per tool. */
async function rounds(tools) {
  const times = tools.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    for (const [i, t] of tools.entries()) {
      t.before?.();
      const start = performance.now();
      const out = await t.go();
      const ms = performance.now() - start;
      t.check?.(out);
      t.after?.();
      times[i].push(ms);
    }
  }
  return tools.map((t, i) => ({ label: t.label, command: t.command, ...summarize(times[i]) }));
}

/** readDeploy says in a few sentences what the medians mean. */
function readDeploy({ mFirst, rFirst, mOne, mAgain, rAgain }) {
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const vs = (a, b) => (a <= b ? `${(b / a).toFixed(2)}× faster than` : `${(a / b).toFixed(2)}× slower than`);
  return (
    `A first deploy of the 10,000 files to ${NODES} nodes takes \`mpop deploy\` ${s(mFirst.median)} (median), ${vs(mFirst.median, rFirst.median)} ${NODES} rsyncs at once (${s(rFirst.median)}); to 1 node it takes ${s(mOne.median)}, so the fan-out to ${NODES} costs ${(mFirst.median / mOne.median).toFixed(1)}× one node's time on this 2-core machine, where the ${NODES} daemons, their disks and the controller share the same CPUs. ` +
    `With nothing changed, mpop takes ${s(mAgain.median)}, ${vs(mAgain.median, rAgain.median)} rsync (${s(rAgain.median)}): rsync only compares, while every deploy makes a new release (a copy of the live one on each node, then a sync that sends nothing, the switch and the pruning of old releases), so what it pays beyond rsync is that copy of 10,000 files on each node.`
  );
}

await runIfMain(import.meta.url, run);
