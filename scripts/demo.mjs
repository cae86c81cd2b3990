// demo.mjs: the README's first command (`npm start`). A fleet of three hosts on this machine, then the tour a
// new user takes: mpop servers / status / exec / deploy / rollback, meshdb index / search, mpop heal, and
// mpop-mcp as an agent meets it (its config, then an MCP client listing the tools and calling one). It ends
// with what ran and how long each step took, and takes everything down (--keep leaves it up).
//
// The fleet is a lab when this machine can make one (root and /dev/net/tun): a coordinator and two nodes,
// each a network namespace with its own vault, joined by real WireGuard (wireguard-go), a vssh daemon on
// every mesh address. Otherwise it says why and runs the same tour on three vssh daemons on 127.0.0.1.
//
//   node scripts/demo.mjs [--keep] [--loopback]     npm start [-- --keep]
//   node scripts/demo.mjs --down [DIR]              take a kept fleet down (DIR: the one it printed)
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = {
  sv: join(ROOT, 'vault/bin/run.js'),
  wire: join(ROOT, 'wire/bin/run.js'),
  vssh: join(ROOT, 'vssh/bin/run.js'),
  mpop: join(ROOT, 'mpop/bin/run.js'),
  meshdb: join(ROOT, 'meshdb/bin/run.js'),
  'mpop-mcp': join(ROOT, 'mpop/bin/mcp.js'),
};
/** STATE is where a kept fleet says how to take it down (one file per fleet). */
const STATE_DIR = join(tmpdir(), 'meshpop-demo');

const argv = process.argv.slice(2);
const known = new Set(['--keep', '--loopback', '--down', '--help', '-h']);
const unknown = argv.filter((a) => a.startsWith('-') && !known.has(a));
if (argv.includes('--help') || argv.includes('-h') || unknown.length) {
  if (unknown.length) console.error(`demo: unknown option ${unknown.join(' ')}`);
  console.error('usage: npm start [-- --keep] [-- --loopback]    npm start -- --down [DIR]');
  process.exit(unknown.length ? 2 : 0);
}
if (argv.includes('--down')) process.exit(takeDownKept(argv.find((a) => !a.startsWith('-'))));
const keep = argv.includes('--keep');

// ---------------------------------------------------------------------------------------------- the tour

const steps = [];
/** step runs one part of the tour, timing it; a failed step is recorded and stops the tour. */
async function step(name, fn) {
  const t0 = performance.now();
  try {
    const note = await fn();
    steps.push({ name, ok: true, ms: performance.now() - t0, note: typeof note === 'string' ? note : '' });
  } catch (err) {
    steps.push({ name, ok: false, ms: performance.now() - t0, note: err.message.split('\n')[0] });
    throw err;
  }
}

/** show runs a CLI on the controller as a user would type it, prints what it printed, and fails unless it exited 0 (or `mayFail`). */
async function show(fleet, bin, args, { mayFail = false, quiet = false } = {}) {
  console.log(`\n[${fleet.controller}]$ ${bin} ${args.map(quote).join(' ')}`);
  const r = await fleet.run(bin, args);
  if (!quiet) process.stdout.write(r.stdout);
  process.stdout.write(r.stderr);
  if (r.code !== 0 && !mayFail) throw new Error(`${bin} ${args[0]} exited with ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? ''}`);
  return r;
}
const quote = (a) => (/^[\w@%+=:,./*-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** canLab says why this machine cannot make a lab (null when it can). */
function whyNoLab() {
  if (argv.includes('--loopback')) return 'asked for --loopback';
  if (process.getuid?.() !== 0) return 'not root: network namespaces and WireGuard interfaces need root (sudo npm start)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun: wireguard-go cannot make an interface here';
  const probe = `mpprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot make a network namespace (${(r.stderr || r.error?.message || '').trim()})`;
  spawnSync('ip', ['netns', 'del', probe]);
  for (const bin of ['wg', 'wireguard-go']) if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (npm run setup installs it)`;
  return null;
}

async function tour() {
  const why = whyNoLab();
  let fleet;
  const t0 = performance.now();
  if (why) {
    console.log(`MeshPOP on loopback (no lab: ${why}): three vssh daemons on 127.0.0.1, a controller home with its vault ...`);
    await step('fleet up: 3 vssh daemons on 127.0.0.1', async () => (fleet = await loopbackFleet()).describe);
  } else {
    console.log('MeshPOP lab: a coordinator and two nodes, each a network namespace with its own vault, joined by real WireGuard ...');
    await step('fleet up: 3 lab hosts, WireGuard mesh, vssh on each', async () => (fleet = await labFleet()).describe);
  }
  console.log(`Fleet up in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${fleet.describe}`);
  // Ctrl-C (or a closed terminal) mid-tour still takes everything down.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      console.error(`\ndemo: ${sig}, taking the fleet down`);
      void fleet.down().finally(() => process.exit(130));
    });
  }
  process.stdout.on('error', () => undefined); // a closed pipe (npm start | head) must not skip the take-down
  let failed = false;
  try {
    await walk(fleet);
  } catch (err) {
    failed = true;
    console.error(`\ndemo failed: ${err.message}`);
  } finally {
    summary();
    if (keep && !failed) fleet.keep();
    else await fleet.down();
  }
  return failed ? 1 : 0;
}

/** walk is the tour itself, the same on a lab and on loopback. */
async function walk(fleet) {
  const [a, b] = fleet.nodes; // the two nodes besides the controller
  if (fleet.wire) await step('wire peers, wire ping', async () => {
    await show(fleet, 'wire', ['peers']);
    await show(fleet, 'wire', ['ping', a, '--count', '2']);
    return 'the mesh, seen by the coordinator';
  });
  await step('vssh exec, vssh put (twice)', async () => {
    await show(fleet, 'vssh', ['exec', a, '--', 'ip', '-o', '-4', 'addr', 'show']);
    const file = join(fleet.scratch, 'release.tar');
    writeFileSync(file, Buffer.alloc(32 * 1024 * 1024, 7));
    const dest = `${b}:${fleet.nodePath(b, 'release.tar')}`;
    await show(fleet, 'vssh', ['put', file, dest]);
    await show(fleet, 'vssh', ['put', file, dest]); // unchanged: nothing crosses
    return '32 MiB, then nothing';
  });
  await step('mpop servers', () => show(fleet, 'mpop', ['servers']).then(() => `${fleet.all.length} nodes`));
  await step('mpop status', () => show(fleet, 'mpop', ['status']));
  await step('mpop exec all (folded, recap)', async () => {
    const r = await show(fleet, 'mpop', ['exec', 'all', '--', 'uname', '-sr']); // the same answer everywhere: one block
    if (!new RegExp(`^ok\\s+${fleet.all.length}\\s`, 'm').test(r.stdout)) throw new Error('the recap does not say ok for every node');
    await show(fleet, 'mpop', ['exec', 'all', '--shell', fleet.differs]); // a different answer per node: a block each
    return `ok on ${fleet.all.length}`;
  });
  await step('mpop groups set web', () => show(fleet, 'mpop', ['groups', 'set', 'web', a, b]));

  const site = join(fleet.scratch, 'site');
  mkdirSync(site, { recursive: true });
  const targets = fleet.deployTargets('web', [a, b]);
  await step('mpop deploy v1, v2 (health-checked)', async () => {
    writeFileSync(join(site, 'index.html'), '<h1>v1</h1>\n');
    writeFileSync(join(site, 'app.js'), 'console.log("hello from the demo site");\n');
    for (const t of targets) await show(fleet, 'mpop', ['deploy', site, t.target, '--health', `grep -q v1 ${t.path}/index.html`]);
    writeFileSync(join(site, 'index.html'), '<h1>v2</h1>\n');
    for (const t of targets) await show(fleet, 'mpop', ['deploy', site, t.target, '--health', `grep -q v2 ${t.path}/index.html`]);
    for (const t of targets) await show(fleet, 'mpop', ['releases', t.target]);
    return 'two releases on 2 nodes';
  });
  await step('mpop rollback', async () => {
    for (const t of targets) await show(fleet, 'mpop', ['rollback', t.target]);
    for (const t of targets) {
      const r = await show(fleet, 'mpop', ['exec', t.nodes, '--', 'cat', `${t.path}/index.html`]);
      if (!r.stdout.includes('v1') || r.stdout.includes('v2')) throw new Error('after the rollback the live release is not v1');
    }
    return 'v1 live again';
  });

  const docs = join(fleet.scratch, 'docs');
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, 'runbook.md'), '# Runbook\n\nWhen a disk fills up, run the disk cleanup script: scripts/cleanup.sh removes old releases and logs.\n');
  writeFileSync(join(docs, 'cleanup.sh'), '#!/bin/sh\n# disk cleanup: old releases and rotated logs\nfind /var/log -name "*.gz" -mtime +7 -delete\n');
  await step('meshdb index + search', async () => {
    await show(fleet, 'meshdb', ['index', 'all', docs]);
    const r = await show(fleet, 'meshdb', ['search', 'disk cleanup']);
    if (!r.stdout.includes('runbook.md')) throw new Error('meshdb search did not find the runbook');
    await show(fleet, 'meshdb', ['search', '-F', 'mtime +7']);
    return 'found on every node';
  });
  await step('mpop heal', () => show(fleet, 'mpop', ['heal', 'all'], { mayFail: true })); // findings exit 1; they are the point

  await step('mpop-mcp: an agent lists the tools and calls one', async () => {
    console.log('\nmpop-mcp, the MCP server for agents. Claude Code: `claude mcp add mpop -- mpop-mcp`; or a project\'s .mcp.json:');
    console.log(JSON.stringify({ mcpServers: { mpop: { command: 'mpop-mcp', args: ['--toolsets', 'core,deploy'], env: { MESHPOP_HOME: fleet.home } } } }));
    return mcpTour(fleet);
  });
}

/** mcpTour starts mpop-mcp as an agent's client would (stdio) on the controller, lists its tools and calls mpop_status. */
async function mcpTour(fleet) {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const client = new Client({ name: 'meshpop-demo', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ ...fleet.command('mpop-mcp', []), stderr: 'ignore' }));
  try {
    const { tools } = await client.listTools();
    console.log(`\n[agent] tools/list: ${tools.length} tools (the core toolset; --toolsets all has the rest): ${tools.map((t) => t.name).join(', ')}`);
    const r = await client.callTool({ name: 'mpop_status', arguments: { target: 'all' } });
    const text = r.content?.find((c) => c.type === 'text')?.text ?? '';
    console.log(`[agent] tools/call mpop_status {"target":"all"}${r.isError ? ' (isError)' : ''}:\n${text}`);
    if (r.isError) throw new Error(`mpop_status answered an error: ${text.split('\n')[0]}`);
    return `${tools.length} tools; mpop_status on ${r.structuredContent?.nodes?.length ?? '?'} nodes`;
  } finally {
    await client.close();
  }
}

function summary() {
  const width = Math.max(...steps.map((s) => s.name.length));
  console.log('\nWhat ran:');
  for (const s of steps) console.log(`  ${s.ok ? '✓' : '✗'} ${s.name.padEnd(width)}  ${(s.ms / 1000).toFixed(1).padStart(5)} s  ${s.note}`);
  const total = steps.reduce((t, s) => t + s.ms, 0);
  console.log(`  ${' '.repeat(width + 2)}${(total / 1000).toFixed(1).padStart(5)} s in all`);
}

// ---------------------------------------------------------------------------------------------- fleets

/** labFleet: a coordinator (hub) and two nodes in namespaces, joined by WireGuard, vssh on every mesh address. */
async function labFleet() {
  const { lan, waitFor, VSSH_BIN } = await import('../e2e/dist/index.js');
  const mesh = await lan(2);
  const { lab, hub } = mesh;
  // The hosts share this machine's filesystem. So that every node deploys to one path, as on a real fleet, each
  // host's vssh daemon runs in a mount namespace of its own where its own folder is bound over that path.
  const srv = join(dirname(hub.home), 'srv');
  try {
    mkdirSync(srv, { recursive: true });
    for (const h of [hub, ...mesh.nodes]) {
      mkdirSync(join(h.home, 'srv'), { recursive: true });
      lab.start(h, 'unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$2" && exec "$3" "$4" serve', 'sh', join(h.home, 'srv'), srv, process.execPath, VSSH_BIN], 'vssh');
    }
    for (const h of [hub, ...mesh.nodes]) await waitFor(`vssh on ${h.name}`, () => lab.log(h, 'vssh').includes('vssh serving on'), 20_000);
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  const scratch = join(hub.home, 'demo');
  mkdirSync(scratch, { recursive: true });
  const inHost = (host, bin, args) => ({ command: 'ip', args: ['netns', 'exec', host.ns, process.execPath, BIN[bin], ...args], env: { ...process.env, ...host.env } });
  return {
    controller: 'hub',
    home: hub.home,
    scratch,
    nodes: mesh.nodes.map((n) => n.name),
    all: ['coordinator', ...mesh.nodes.map((n) => n.name)],
    describe: `${[...mesh.ips].map(([n, ip]) => `${n}=${ip}`).join(' ')}, vssh on each (namespaces ${lab.prefix}-*)`,
    differs: 'echo "my mesh address: $(ip -o -4 addr show | grep -o "10\\.99\\.[0-9.]*" | head -1)"',
    deployTargets: (group, nodes) => [{ target: `@${group}:${join(srv, 'www')}`, path: join(srv, 'www'), nodes: nodes.join(',') }],
    nodePath: (_node, name) => join(srv, name),
    wire: true,
    run: (bin, args) => lab.exec(hub, process.execPath, [BIN[bin], ...args], { timeoutMs: 120_000 }),
    command: (bin, args) => inHost(hub, bin, args),
    down: async () => {
      await lab.destroy();
      console.log('\nTaken down: every namespace, interface, process and home the lab made is gone.');
    },
    keep() {
      const dir = dirname(hub.home);
      const state = { kind: 'lab', prefix: lab.prefix, root: dir, hosts: [hub, ...mesh.nodes].map((h) => ({ name: h.name, ns: h.ns, iface: h.iface, env: h.env })) };
      keepFleet(state, (name) => {
        const h = state.hosts.find((x) => x.name === name) ?? state.hosts[0];
        return `ip netns exec ${h.ns} env ${Object.entries(h.env).map(([k, v]) => `${k}=${quote(v)}`).join(' ')}`;
      }, state.hosts.map((h) => h.name));
    },
  };
}

/** loopbackFleet: three `vssh serve` daemons on 127.0.0.1 (nodes n1..n3), a controller home listing them in nodes.json. */
async function loopbackFleet() {
  const home = mkdtempSync(join(tmpdir(), 'meshpop-demo-'));
  const env = { ...process.env, MESHPOP_HOME: home, SV_PASSWORD_FILE: join(home, 'vault-password') };
  writeFileSync(env.SV_PASSWORD_FILE, 'demo password\n', { mode: 0o600 });
  const must = (bin, args) => {
    const r = spawnSync(process.execPath, [BIN[bin], ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  };
  must('sv', ['init', '--shares', '0', '--kdf-memory', '64', '--kdf-iterations', '1', '--kdf-parallelism', '1']);
  must('vssh', ['keys', 'init']);
  const names = ['n1', 'n2', 'n3'];
  const daemons = [];
  const stopAll = () => daemons.forEach((d) => d.child.kill('SIGTERM'));
  try {
    for (const name of names) daemons.push(await startServe(env, name));
  } catch (err) {
    stopAll();
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  mkdirSync(join(home, 'vssh'), { recursive: true });
  writeFileSync(join(home, 'vssh', 'nodes.json'), JSON.stringify(Object.fromEntries(daemons.map((d) => [d.name, { addresses: [`127.0.0.1:${d.port}`] }])), null, 1));
  const scratch = join(home, 'demo');
  mkdirSync(scratch, { recursive: true });
  return {
    controller: 'controller',
    home,
    scratch,
    nodes: ['n1', 'n2'],
    all: names,
    describe: daemons.map((d) => `${d.name}=127.0.0.1:${d.port}`).join(' '),
    differs: 'echo "served by the vssh daemon with pid $PPID"', // the daemons share this machine: their pids differ
    // The daemons share this machine's filesystem: each node gets a path of its own, deployed to one by one.
    deployTargets: (_group, nodes) => nodes.map((n) => ({ target: `${n}:${join(home, 'nodes', n, 'www')}`, path: join(home, 'nodes', n, 'www'), nodes: n })),
    nodePath: (node, name) => join(home, 'nodes', node, name),
    run: (bin, args) => run(process.execPath, [BIN[bin], ...args], env),
    command: (bin, args) => ({ command: process.execPath, args: [BIN[bin], ...args], env }),
    down: async () => {
      stopAll();
      await Promise.all(daemons.map((d) => d.exited));
      rmSync(home, { recursive: true, force: true });
      console.log('\nTaken down: the three daemons are stopped and the controller home is gone.');
    },
    keep() {
      const state = { kind: 'loopback', root: home, pids: daemons.map((d) => d.child.pid), env: { MESHPOP_HOME: home, SV_PASSWORD_FILE: env.SV_PASSWORD_FILE } };
      keepFleet(state, () => `env ${Object.entries(state.env).map(([k, v]) => `${k}=${quote(v)}`).join(' ')}`, ['controller']);
    },
  };
}

/**
 * startServe starts `vssh serve` for `name` on 127.0.0.1 (a free port), detached and writing to a log file of
 * its own, so that --keep can leave it running after this process is gone.
 */
function startServe(env, name) {
  const log = join(env.MESHPOP_HOME, `vssh-${name}.log`);
  const fd = openSync(log, 'a', 0o600);
  const child = spawn(process.execPath, [BIN.vssh, 'serve', '--bind', '127.0.0.1', '--port', '0', '--id', name, '--name', name], { env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let gone;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve((gone = code ?? signal))));
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const text = readFileSync(log, 'utf8');
      const m = /vssh serving on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve({ name, port: Number(m[1]), child, exited });
      else if (gone !== undefined) reject(new Error(`vssh serve ${name} exited (${gone}) before listening: ${text.slice(-500)}`));
      else if (Date.now() - t0 > 20_000) reject(new Error(`vssh serve ${name} did not listen within 20 s: ${text.slice(-500)}`));
      else return;
      clearInterval(poll);
    }, 50);
  });
}

/** run runs a command and resolves with its exit code and output. */
function run(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------- --keep and --down

/** keepFleet records a fleet left up and prints how to reach it and how to take it down. */
function keepFleet(state, prefixFor, hosts) {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const file = join(STATE_DIR, `${state.prefix ?? 'loopback'}-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(state, null, 1), { mode: 0o600 });
  console.log('\nThe fleet is left up (--keep). Reach it from the controller:');
  console.log(`  ${prefixFor(hosts[0])} ${process.execPath} ${BIN.mpop} exec all -- uptime`);
  if (hosts.length > 1) console.log(`  (another host: the same with its namespace and home, e.g. ${prefixFor(hosts[1]).split(' env ')[0]} ...)`);
  console.log(`Take it down:\n  npm start -- --down ${file}`);
}

/** takeDownKept takes down the fleet a state file describes (the newest one when none is named). */
function takeDownKept(named) {
  let file = named;
  if (!file) {
    const files = existsSync(STATE_DIR) ? readdirSync(STATE_DIR).filter((f) => f.endsWith('.json')).map((f) => join(STATE_DIR, f)) : [];
    if (!files.length) {
      console.error('demo: no kept fleet to take down');
      return 1;
    }
    file = files.sort().at(-1);
  }
  let state;
  try {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`demo: cannot read ${file} (${err.message}); it should be the file npm start -- --keep printed`);
    return 2;
  }
  if (state.kind === 'loopback') {
    for (const pid of state.pids) {
      try {
        // only a daemon of this fleet: a pid reused since by another process is left alone
        if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`MESHPOP_HOME=${state.root}`)) continue;
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  } else {
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]).filter((ns) => ns?.startsWith(`${state.prefix}-`));
    for (const ns of namespaces) {
      for (const pid of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    for (const h of state.hosts) spawnSync('ip', ['-n', h.ns, 'link', 'del', h.iface]);
    for (const ns of namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    try {
      for (const f of readdirSync('/var/run/wireguard')) if (f.startsWith(state.prefix)) rmSync(join('/var/run/wireguard', f), { force: true });
    } catch {
      /* no folder */
    }
  }
  rmSync(state.root, { recursive: true, force: true });
  rmSync(file, { force: true });
  console.log(`Taken down: ${state.kind === 'lab' ? `the lab ${state.prefix} (namespaces, interfaces, processes, homes)` : 'the loopback daemons and their home'}.`);
  return 0;
}

process.exit(await tour());
