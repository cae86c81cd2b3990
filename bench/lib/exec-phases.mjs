// exec-phases: where the time of `mpop exec all -- true` goes, measured in a process of its own that does
// what mpop's exec path does (src/cli/exec.ts) with the same library calls, timing each step:
//   node bench/lib/exec-phases.mjs     (MESHPOP_HOME: the controller home; prints one JSON line, in ms)
// start: Node's start-up until this file runs; modules: importing mpop's exec path and vssh's client;
// inventory: loading nodes.json and resolving `all`; key: the master from the vault agent; connect: a
// connection and a signed `hello` to every node; exec: `true` on every node over those open connections
// (what a second run in the same process would pay); render: folding and the recap.
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
const mark = (from) => performance.now() - from;
let t = performance.now();
const { meshpopHome } = await import('../../vault/dist/light.js');
const { Pool } = await import('../../vssh/dist/client-entry.js');
const { execFleet } = await import('../../mpop/dist/exec.js');
const { loadInventory } = await import('../../mpop/dist/inventory/inventory.js');
const { renderFolded, renderRecap } = await import('../../mpop/dist/cli/fanout-view.js');
const { paint } = await import('../../mpop/dist/cli/format.js');
const modules = mark(t);
t = performance.now();
const home = meshpopHome();
const inv = await loadInventory({ home });
const nodes = inv.resolve('all');
const inventory = mark(t);
t = performance.now();
const pool = new Pool({ home, retries: 1 });
await pool.client(nodes[0]);
const key = mark(t);
t = performance.now();
await Promise.all(nodes.map(async (n) => (await pool.client(n)).hello()));
const connect = mark(t);
t = performance.now();
const run = await execFleet(pool, nodes, { command: { argv: ['true'] } });
const exec = mark(t);
if (run.counts.ok !== nodes.length) throw new Error(`exec ok on ${run.counts.ok} of ${nodes.length}`);
t = performance.now();
const c = paint({ isTTY: false });
const text = renderFolded(run.results.map((r) => ({ node: r.node, text: r.value.stdout + r.value.stderr })), c) + renderRecap(run, c, () => undefined);
const render = mark(t);
await pool.close();
process.stdout.write(JSON.stringify({ start: t0, modules, inventory, key, connect, exec, render, chars: text.length }) + '\n');
