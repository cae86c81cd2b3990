// mpop-mcp: the MCP server as an agent meets it, through the SDK's own Client over stdio spawning the
// built mpop/bin/mcp.js. (1) Spawn to the first tools/list answered. (2) The size of tools/list for each
// toolset preset (tools, bytes of its JSON, ~tokens at 4 bytes each). (3) One `mpop_exec` of `true` on one
// loopback node through an initialized client against the same exec made directly with vssh's Pool in
// this process (and mpop's execFleet in this process, to show where the difference goes). (4) `mpop_exec`
// on a fleet of `vssh serve` nodes through MCP against the `mpop exec` CLI on the same fleet.
// MPOP_MCP_BENCH_SIZES=nodes,starts,calls,fleetRuns (default 100,20,200,10) shrinks it to try it out.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFleet } from '../mpop/dist/exec.js';
import { loadInventory } from '../mpop/dist/inventory/inventory.js';
import { Pool } from '../vssh/dist/index.js';
import { cleanup, onCleanup } from './lib/cleanup.mjs';
import { MPOP, nodeNames, startServes, writeNodes } from './lib/fleet.mjs';
import { runIfMain } from './lib/main.mjs';
import { timeOnce, timeRuns } from './lib/spawn.mjs';
import { msText, ratio, summarize } from './lib/stats.mjs';
import { scratchVssh, vsshVersion, withoutCaCerts } from './lib/vssh.mjs';

/** MCP is the path of the mpop-mcp server as the repo builds it. */
const MCP = fileURLToPath(new URL('../mpop/bin/mcp.js', import.meta.url));
const [NODES, START_RUNS, CALL_RUNS, FLEET_RUNS] = (process.env.MPOP_MCP_BENCH_SIZES ?? '100,20,200,10').split(',').map(Number);
const START_WARMUP = 2;
const CALL_WARMUP = 20;
const FLEET_WARMUP = 2;
/** START_TARGET_MS and OVERHEAD_TARGET_MS are issue 11's targets: start to first tools/list, and what MCP adds to one exec. */
const START_TARGET_MS = 500;
const OVERHEAD_TARGET_MS = 5;
/** DEADLINE_S is the server's --deadline: long enough that a slow run on a loaded machine is timed, not turned into a job. */
const DEADLINE_S = 600;
/** PRESETS are the toolset choices whose tools/list is measured. */
const PRESETS = [
  { label: 'default (core)', args: [] },
  { label: 'core + deploy', args: ['--toolsets', 'core,deploy'] },
  { label: 'core + files', args: ['--toolsets', 'core,files'] },
  { label: 'core + network', args: ['--toolsets', 'core,network'] },
  { label: 'all', args: ['--toolsets', 'all'] },
];

/** run measures the four cases in turn, with every daemon and server stopped at the end, and returns the results as JSON. */
export async function run() {
  try {
    const vault = scratchVssh();
    const bare = withoutCaCerts(vault.env);
    process.stderr.write(`mpop-mcp: starting ${NODES} vssh serve nodes\n`);
    const fleet = await startServes(vault, nodeNames(NODES));
    writeNodes(vault.home, { n1: fleet.ports.n1 });

    process.stderr.write('mpop-mcp: start to first tools/list\n');
    const start = await timeStarts(vault.env, bare);
    process.stderr.write('mpop-mcp: tools/list per toolset\n');
    const sizes = [];
    for (const p of PRESETS) sizes.push({ ...p, ...(await listSize(bare, p.args)) });
    process.stderr.write('mpop-mcp: one exec on one node\n');
    const one = await timeOneNode(vault.home, bare);
    writeNodes(vault.home, fleet.ports);
    process.stderr.write(`mpop-mcp: exec on ${NODES} nodes\n`);
    const many = await timeFleet(vault, bare);
    await fleet.stop();

    const floor = { label: 'floor: Node start-up', command: '`node -e 0`, no NODE_EXTRA_CA_CERTS', ...summarize(timeRuns(process.execPath, ['-e', '0'], { env: bare, warmup: START_WARMUP, runs: START_RUNS })) };
    const rows = [start.env, ...(start.bare ? [start.bare] : []), floor, one.mcp, one.lib, one.pool, many.first, many.mcp, many.lib, many.cli, ...(many.bare ? [many.bare] : [])];
    const r = (label, a, b) => ({ label, mean: ratio(a.mean, b.mean), median: ratio(a.median, b.median) });
    const ratios = [
      r('one node: `mpop_exec` through MCP / `client.exec` on a Pool in this process', one.mcp, one.pool),
      r(`${NODES} nodes: \`mpop exec\` CLI${many.bare ? ' (no NODE_EXTRA_CA_CERTS)' : ''} / \`mpop_exec\` through MCP, connections open`, many.bare ?? many.cli, many.mcp),
      r(`${NODES} nodes: \`mpop_exec\` through MCP, connections open / execFleet in this process`, many.mcp, many.lib),
      r('start to first tools/list / `node -e 0`', start.bare ?? start.env, floor),
    ];
    if (start.bare) ratios.push(r('start to first tools/list: with NODE_EXTRA_CA_CERTS / without', start.env, start.bare));
    const overhead = Math.round((one.mcp.median - one.pool.median) * 100) / 100;
    return {
      scenario: 'mpop-mcp',
      title: `The MCP server: start, tools/list per toolset, call overhead, \`mpop_exec\` on ${NODES} nodes`,
      about:
        'Every client is the MCP SDK\'s own `Client` over `StdioClientTransport`, in the benchmark\'s process, spawning the built `mpop/bin/mcp.js`; every node is a `vssh serve` process on 127.0.0.1 (its key derived from the controller\'s master, got through the vault agent). ' +
        `**Start:** from spawning the server to the answer of the first \`tools/list\` (spawn, \`initialize\`, \`notifications/initialized\`, \`tools/list\`), default toolsets, ${START_RUNS} runs after ${START_WARMUP} untimed${start.bare ? ', with this machine\'s environment and without NODE_EXTRA_CA_CERTS, the two in turn' : ''}. ` +
        '**tools/list per toolset:** bytes of the JSON of the `tools` array as the server sent it (names, titles, descriptions, input and output schemas, annotations), ~tokens at 4 bytes each (the table below). ' +
        `**One node:** \`mpop_exec\` with \`{target: "n1", argv: ["true"]}\` on an initialized client whose server already holds its connection (started with \`--allow mpop_exec\`, so nothing is asked; every call is audited and recorded as the last run as usual), against \`client.exec({argv: ["true"]})\` on a vssh \`Pool\` client in the benchmark's process and mpop's \`execFleet\` on that Pool (the fan-out the tool calls, without the tool around it, the JSON-RPC or the audit); ${CALL_RUNS} calls each after ${CALL_WARMUP} untimed, the three in turn. ` +
        `**${NODES} nodes:** \`mpop_exec\` with \`{target: "all", argv: ["true"]}\` through MCP: the first call of a new server (which opens a connection and \`hello\` to every node) and then ${FLEET_RUNS} calls after ${FLEET_WARMUP - 1} more untimed, on open connections; \`execFleet\` in this process on open connections; and \`mpop exec all -- true\` as a whole process${many.bare ? ' (with this machine\'s environment and without NODE_EXTRA_CA_CERTS)' : ''}, which connects anew each time; ${FLEET_RUNS} runs each after ${FLEET_WARMUP} untimed, in turn. ` +
        `Every call is checked (ok on every node, exit code 0), so a failure is never timed as a fast answer. The server runs with \`--deadline ${DEADLINE_S}\` so that a slow call on a loaded machine is timed rather than handed back as a job.`,
      tools: { node: process.version, vssh: vsshVersion(), mpop: packageVersion(fileURLToPath(new URL('../mpop/package.json', import.meta.url))), '@modelcontextprotocol/sdk': sdkVersion() },
      rows,
      ratios,
      tables: [toolsetTable(sizes)],
      toolsets: sizes.map(({ label, args, tools, bytes, tokens, bytesWithoutOutput }) => ({ label, args: args.join(' '), tools, bytes, tokens, bytesWithoutOutput })),
      targets: {
        startMs: { target: START_TARGET_MS, median: (start.bare ?? start.env).median, met: (start.bare ?? start.env).median < START_TARGET_MS },
        overheadMs: { target: OVERHEAD_TARGET_MS, median: overhead, met: overhead < OVERHEAD_TARGET_MS },
      },
      summary: [
        { label: 'start to the first tools/list', ours: `${((start.bare ?? start.env).median).toFixed(0)} ms`, theirs: `${floor.median.toFixed(0)} ms (\`node -e 0\`)`, ratio: `${((start.bare ?? start.env).median / floor.median).toFixed(1)}× Node's start`, target: `under ${START_TARGET_MS} ms`, met: (start.bare ?? start.env).median < START_TARGET_MS },
        { label: '`mpop_exec` on one node, over the same vssh call', ours: `+${overhead.toFixed(2)} ms`, theirs: `${one.pool.median.toFixed(2)} ms (\`client.exec\`)`, ratio: '', target: `under ${OVERHEAD_TARGET_MS} ms`, met: overhead < OVERHEAD_TARGET_MS },
        { label: `\`mpop_exec\` on ${NODES} nodes, connections open`, ours: `${many.mcp.median.toFixed(0)} ms`, theirs: `${(many.bare ?? many.cli).median.toFixed(0)} ms (\`mpop exec\` CLI)`, ratio: `${((many.bare ?? many.cli).median / many.mcp.median).toFixed(1)}× faster` },
      ],
      reading: reading({ start, floor, sizes, one, many, overhead }),
    };
  } finally {
    cleanup();
  }
}

/**
 * connect spawns mpop-mcp with `args` and `env` and initializes a Client on it; it returns { client,
 * transport, close() }. The server's stderr is kept (its last 2 kB) for error messages; cleanup() kills
 * the server if it is still running.
 */
async function connect(args, env) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [MCP, ...args], env, stderr: 'pipe' });
  let err = '';
  transport.stderr.setEncoding('utf8').on('data', (c) => (err = (err + c).slice(-2000)));
  const client = new Client({ name: 'mpop-bench', version: '1.0.0' });
  let open = true;
  onCleanup(() => {
    if (!open || !transport.pid) return;
    try {
      process.kill(transport.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });
  const close = async () => {
    await client.close();
    open = false;
  };
  try {
    await client.connect(transport);
  } catch (e) {
    await close();
    throw new Error(`mpop-mcp ${args.join(' ')} did not initialize: ${e.message}${err ? ` (stderr: ${err.trim()})` : ''}`);
  }
  return { client, transport, close, stderr: () => err.trim() };
}

/** startToList times one server from spawn to the answer of its first tools/list, then closes it. */
async function startToList(env) {
  const t0 = performance.now();
  const c = await connect([], env);
  try {
    const { tools } = await c.client.listTools();
    const ms = performance.now() - t0;
    if (!tools.some((t) => t.name === 'mpop_toolsets')) throw new Error(`tools/list of the default toolsets has no mpop_toolsets (${tools.length} tools)`);
    return ms;
  } finally {
    await c.close();
  }
}

/** timeStarts times START_RUNS starts with `env` and, where this machine sets NODE_EXTRA_CA_CERTS, with `bare` in turn. */
async function timeStarts(env, bare) {
  const envs = process.env.NODE_EXTRA_CA_CERTS ? [env, bare] : [env];
  const times = envs.map(() => []);
  for (let i = 0; i < START_WARMUP + START_RUNS; i++) {
    for (const [k, e] of envs.entries()) {
      const ms = await startToList(e);
      if (i >= START_WARMUP) times[k].push(ms);
    }
  }
  const row = (label, t) => ({ label, command: 'spawn `mpop-mcp` to the first `tools/list` answered (SDK Client, stdio)', ...summarize(t) });
  return {
    env: row('mpop-mcp start to first tools/list', times[0]),
    bare: envs.length > 1 ? row('mpop-mcp start to first tools/list, no NODE_EXTRA_CA_CERTS', times[1]) : undefined,
  };
}

/**
 * listSize starts a server with `args` and returns the size of its tools/list: tools, bytes of the JSON of
 * the tools array as it came over the wire (every page, if the server pages), ~tokens at 4 bytes each,
 * and the bytes without the output schemas (which some clients do not put in the model's context).
 */
async function listSize(env, args) {
  const c = await connect(args, env);
  try {
    const pages = [];
    const inner = c.transport.onmessage;
    c.transport.onmessage = (m, extra) => {
      if (Array.isArray(m?.result?.tools)) pages.push(m.result.tools);
      inner?.(m, extra);
    };
    let cursor;
    do cursor = (await c.client.listTools(cursor ? { cursor } : undefined)).nextCursor;
    while (cursor);
    const tools = pages.flat();
    if (!tools.length) throw new Error(`mpop-mcp ${args.join(' ')} listed no tools`);
    const bytes = Buffer.byteLength(JSON.stringify(tools));
    const bytesWithoutOutput = Buffer.byteLength(JSON.stringify(tools.map(({ outputSchema, ...t }) => t)));
    return { tools: tools.length, bytes, tokens: Math.round(bytes / 4), bytesWithoutOutput, names: tools.map((t) => t.name) };
  } finally {
    await c.close();
  }
}

/** toolsetTable renders the tools/list sizes as a table: { title, head, align, rows } of strings. */
function toolsetTable(sizes) {
  const kB = (b) => `${(b / 1000).toFixed(1)} kB`;
  return {
    title: 'tools/list per toolset preset',
    head: ['preset', 'flags', 'tools', 'bytes of the tools JSON', '~tokens (4 bytes each)', 'bytes without output schemas'],
    align: ['---', '---', '---:', '---:', '---:', '---:'],
    rows: sizes.map((s) => [s.label, s.args.length ? `\`${s.args.join(' ')}\`` : '(none)', String(s.tools), `${s.bytes} (${kB(s.bytes)})`, String(s.tokens), String(s.bytesWithoutOutput)]),
  };
}

/** mcpExec calls mpop_exec of `true` on `target` and throws unless every one of `n` nodes says ok. */
async function mcpExec(client, target, n) {
  const r = await client.callTool({ name: 'mpop_exec', arguments: { target, argv: ['true'] } }, undefined, { timeout: DEADLINE_S * 1000 });
  const ok = r.structuredContent?.counts?.ok;
  if (r.isError || ok !== n) throw new Error(`mpop_exec on ${target} was ok on ${ok ?? 0} of ${n} nodes: ${r.content?.[0]?.text?.slice(0, 300)}`);
}

/** timed returns how long `fn` takes to settle, in ms. */
async function timed(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** timeOneNode times, in turn, mpop_exec through MCP, execFleet in this process and client.exec on a Pool, on n1. */
async function timeOneNode(home, env) {
  const mcp = await connect(['--allow', 'mpop_exec', '--deadline', String(DEADLINE_S)], env);
  const pool = new Pool({ home, retries: 1 });
  try {
    await mcp.client.listTools(); // as an agent does; the client keeps the output schemas to check results against
    const nodes = (await loadInventory({ home })).resolve('n1');
    const client = await pool.client('n1');
    const viaMcp = () => mcpExec(mcp.client, 'n1', 1);
    const viaLib = async () => {
      const r = await execFleet(pool, nodes, { command: { argv: ['true'] } });
      if (r.counts.ok !== 1) throw new Error(`execFleet on n1: ${JSON.stringify(r.counts)}`);
    };
    const viaPool = async () => {
      const r = await client.exec({ argv: ['true'] });
      if (r.exitCode !== 0) throw new Error(`client.exec true exited ${r.exitCode}`);
    };
    const ways = [viaMcp, viaLib, viaPool];
    const times = ways.map(() => []);
    for (let i = 0; i < CALL_WARMUP + CALL_RUNS; i++) {
      for (const [k, fn] of ways.entries()) {
        const ms = await timed(fn);
        if (i >= CALL_WARMUP) times[k].push(ms);
      }
    }
    return {
      mcp: { label: 'one node: `mpop_exec` through MCP', command: '`tools/call mpop_exec {target: "n1", argv: ["true"]}`, initialized client, connection open', ...summarize(times[0]) },
      lib: { label: 'one node: mpop\'s execFleet in this process', command: '`execFleet(pool, ["n1"], {command: {argv: ["true"]}})`, connection open', ...summarize(times[1]) },
      pool: { label: 'one node: vssh `Pool` client in this process', command: '`client.exec({argv: ["true"]})`, connection open', ...summarize(times[2]) },
    };
  } finally {
    await pool.close();
    await mcp.close();
  }
}

/** timeFleet times mpop_exec on every node through a new server (its first call, then on open connections), execFleet in this process, and the CLI. */
async function timeFleet(vault, bare) {
  const n = NODES;
  const tag = `${n} nodes`;
  const mcp = await connect(['--allow', 'mpop_exec', '--deadline', String(DEADLINE_S)], bare);
  const pool = new Pool({ home: vault.home, retries: 1 });
  try {
    await mcp.client.listTools();
    const first = await timed(() => mcpExec(mcp.client, 'all', n));
    const nodes = (await loadInventory({ home: vault.home })).resolve('all');
    if (nodes.length !== n) throw new Error(`the inventory resolved all to ${nodes.length} nodes, not ${n}`);
    const checkCli = (out) => {
      if (!new RegExp(`^ok\\s+${n}\\s`, 'm').test(out)) throw new Error(`mpop exec did not say ok for all ${n} nodes: ${out.trim().split('\n').slice(-3).join(' / ')}`);
    };
    const cli = (env) => () => checkCli(timeOnce(process.execPath, [MPOP, 'exec', 'all', '--', 'true'], { env }).out);
    const ways = [
      () => mcpExec(mcp.client, 'all', n),
      async () => {
        const r = await execFleet(pool, nodes, { command: { argv: ['true'] } });
        if (r.counts.ok !== n) throw new Error(`execFleet on all: ${JSON.stringify(r.counts)}`);
      },
      cli(vault.env),
      ...(process.env.NODE_EXTRA_CA_CERTS ? [cli(bare)] : []),
    ];
    const times = ways.map(() => []);
    for (let i = 0; i < FLEET_WARMUP + FLEET_RUNS; i++) {
      for (const [k, fn] of ways.entries()) {
        const ms = await timed(fn);
        if (i >= FLEET_WARMUP) times[k].push(ms);
      }
    }
    const cliCommand = '`mpop exec all -- true`, whole process, new connections';
    return {
      first: { label: `${tag}: \`mpop_exec\` through MCP, first call`, command: '`tools/call mpop_exec {target: "all", argv: ["true"]}` on a new server: connects to every node', ...summarize([first]) },
      mcp: { label: `${tag}: \`mpop_exec\` through MCP`, command: '`tools/call mpop_exec {target: "all", argv: ["true"]}`, connections open', ...summarize(times[0]) },
      lib: { label: `${tag}: mpop's execFleet in this process`, command: '`execFleet(pool, nodes, {command: {argv: ["true"]}})`, connections open', ...summarize(times[1]) },
      cli: { label: `${tag}: \`mpop exec\` CLI`, command: cliCommand, ...summarize(times[2]) },
      bare: times[3] ? { label: `${tag}: \`mpop exec\` CLI, no NODE_EXTRA_CA_CERTS`, command: cliCommand, ...summarize(times[3]) } : undefined,
    };
  } finally {
    await pool.close();
    await mcp.close();
  }
}

/** packageVersion returns the version in a package.json. */
function packageVersion(file) {
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

/** sdkVersion returns the version of the MCP SDK this file imports (found from where Node resolves it). */
function sdkVersion() {
  let dir = dirname(fileURLToPath(import.meta.resolve('@modelcontextprotocol/sdk/client/index.js')));
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === '@modelcontextprotocol/sdk') return pkg.version;
    } catch {
      /* no package.json here */
    }
  }
  return 'unknown';
}

/** reading says in a few sentences what the numbers mean, against issue 11's targets. */
function reading({ start, floor, sizes, one, many, overhead }) {
  const s = start.bare ?? start.env;
  const met = (x, target) => (x < target ? `under the ${target} ms target` : `over the ${target} ms target`);
  const core = sizes[0];
  const all = sizes.at(-1);
  const cli = many.bare ?? many.cli;
  const vs = (a, b) => (a <= b ? `${ratio(b, a)}× faster than` : `${ratio(a, b)}× slower than`);
  return (
    `From spawn to the first tools/list answered, mpop-mcp takes ${msText(s.median)} (median${start.bare ? ', no NODE_EXTRA_CA_CERTS' : ''}; p95 ${msText(s.p95)}), ${met(s.median, START_TARGET_MS)}; ` +
    `Node's own start-up is ${msText(floor.median)} of it, the rest is loading the server's code (the SDK, zod, mpop's tools) and three messages. ` +
    (start.bare ? `With this machine's NODE_EXTRA_CA_CERTS it takes ${msText(start.env.median)}. ` : '') +
    `The default toolsets list ${core.tools} tools in ${core.bytes} bytes (~${core.tokens} tokens)${core.tools > 21 ? ', more than the ~20 the issue asks of the core' : ''}; all of them, ${all.tools} tools in ${all.bytes} bytes (~${all.tokens} tokens, ${ratio(all.bytes, core.bytes)}× the default); ` +
    `without the output schemas the default is ${core.bytesWithoutOutput} bytes and all ${all.bytesWithoutOutput}. ` +
    `One \`mpop_exec\` of \`true\` on one node through MCP takes ${msText(one.mcp.median)}, against ${msText(one.pool.median)} for the same exec on a vssh Pool client in-process: MCP adds ${msText(overhead)} (medians), ${met(overhead, OVERHEAD_TARGET_MS)}. ` +
    `mpop's fan-out alone (execFleet, in-process) takes ${msText(one.lib.median)}, so ${msText(one.lib.median - one.pool.median)} of that is the fan-out and ${msText(one.mcp.median - one.lib.median)} the tool around it (inventory, the last-run record, folding), the guard and its audit line, JSON-RPC over two pipes and the client's check of the result against the output schema. ` +
    `On ${NODES} nodes, \`mpop_exec\` through MCP takes ${msText(many.mcp.median)} on open connections (its first call, which connects to every node, ${msText(many.first.median)}), ${vs(many.mcp.median, cli.median)} the \`mpop exec\` CLI${many.bare ? ' without NODE_EXTRA_CA_CERTS' : ''} (${msText(cli.median)}), which starts Node and connects anew each time; ` +
    `in-process execFleet takes ${msText(many.lib.median)}, so MCP adds ${msText(many.mcp.median - many.lib.median)} at this size (${NODES} results in the structured content and the text).`
  );
}

await runIfMain(import.meta.url, run);
