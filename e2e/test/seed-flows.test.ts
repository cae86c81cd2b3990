import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Mesh, VSSH_BIN, lan, waitFor } from '../src/index.js';

const isRoot = process.getuid?.() === 0;
const MCP_BIN = fileURLToPath(new URL('../../mpop/bin/mcp.js', import.meta.url));
type R = { isError?: boolean; structuredContent?: any; content: { type: string; text?: string }[] };
type AuditLine = { tool: string; targets: string | null; args: Record<string, unknown>; decision: string; outcome: string; durationMs: number; client: string };

const textOf = (r: R): string => r.content.map((c) => c.text ?? '').join('\n');
const PORT = 8080;

/** serverJs is the service: a node:http server on the node's mesh address answering its version and node name. */
const serverJs = (version: string, marker: string): string => `// seed-hello: answers its version and the node it runs on, on the node's mesh address (${marker})
const http = require('node:http');
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const version = readFileSync(join(__dirname, 'VERSION'), 'utf8').trim();
const mesh = JSON.parse(execFileSync('wire', ['status', '--json'], { encoding: 'utf8' }));
const log = (m) => console.log(new Date().toISOString() + ' ' + m);
http
  .createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ service: 'seed-hello', version, node: mesh.name, pid: process.pid }));
  })
  .listen(${PORT}, mesh.meshIp, () => log('seed-hello ' + version + ' listening on ' + mesh.meshIp + ':${PORT} as ' + mesh.name + ' (pid ' + process.pid + ')'));
process.on('SIGTERM', () => { log('seed-hello ' + version + ' stopping (SIGTERM)'); process.exit(0); });
`;

/** brokenServerJs is v2 as shipped broken: it needs a config file the release does not carry, and dies at start. */
const brokenServerJs = (marker: string): string => `// seed-hello v2 (${marker})
const config = require('./config.json');
require('node:http').createServer((req, res) => res.end(config.greeting)).listen(${PORT});
`;

/**
 * restartSh (re)starts the service from the release it is run in: it stops the one the pid file names, then
 * starts this one in a session of its own (setsid: the daemon's exec ends, the service stays), its output
 * appended to a log beside the deploy path.
 */
const restartSh = `#!/bin/sh
set -eu
base="$(dirname "$MPOP_PATH")"
mkdir -p "$base/run" "$base/log"
pidfile="$base/run/seed-hello.pid"
if [ -f "$pidfile" ]; then
  old="$(cat "$pidfile")"
  kill "$old" 2>/dev/null || true
  i=0
  while kill -0 "$old" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  rm -f "$pidfile"
fi
setsid nohup node "$MPOP_RELEASE_DIR/server.js" >> "$base/log/seed-hello.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
echo "started $MPOP_RELEASE as pid $!"
`;

/** checkJs is the health check: the service on this node's mesh address (10.99.0.0/16) answers this release's version. */
const checkJs = `const want = require('node:fs').readFileSync('VERSION', 'utf8').trim();
const meshIp = Object.values(require('node:os').networkInterfaces()).flat().find((a) => a.family === 'IPv4' && a.address.startsWith('10.99.')).address;
fetch('http://' + meshIp + ':${PORT}/', { signal: AbortSignal.timeout(3000) })
  .then((r) => r.json())
  .then((j) => { console.log('answered ' + j.version); process.exit(j.version === want ? 0 : 1); }, (e) => { console.log('no answer: ' + (e.cause?.code ?? e.message)); process.exit(1); });
`;

/** storeJs is the node's "app": every 200 ms it saves its state on the data disk, and logs each failure (and the recovery). */
const storeJs = (data: string, log: string): string => `const fs = require('node:fs');
const line = (m) => fs.appendFileSync(${JSON.stringify(log)}, new Date().toISOString() + ' ' + m + '\\n');
let failed = 0;
line('seed-store started, saving to ${data}');
setInterval(() => {
  try {
    fs.writeFileSync(${JSON.stringify(join(data, 'state.json'))}, JSON.stringify({ at: Date.now(), pad: 'x'.repeat(8192) }));
    if (failed) line('state saved again after ' + failed + ' failed writes');
    failed = 0;
  } catch (e) {
    failed++;
    line('ERROR cannot save state: ' + e.message);
  }
}, 200);
`;

/** fillJs fills a folder with "backups" until the disk under it is full (ENOSPC), oldest first. */
const fillJs = (data: string): string => `const fs = require('node:fs');
let i = 0;
for (;;) {
  const f = ${JSON.stringify(data)} + '/backup-' + String(++i).padStart(3, '0') + '.tar';
  try { fs.writeFileSync(f, Buffer.alloc(512 * 1024, i)); } catch (e) { if (e.code !== 'ENOSPC') throw e; console.log(i); break; }
  const t = new Date(Date.now() - (100 - i) * 3600_000);
  fs.utimesSync(f, t, t);
}
`;

/** cleanupSh is the runbook's script for that disk: the words "disk cleanup" are what an agent searches for. */
const cleanupSh = (data: string): string => `#!/bin/sh
# disk cleanup for the seed-store data disk (${data}):
# a full data disk is almost always old backups; this removes every backup but the newest one.
set -eu
cd ${data}
n=0
for f in $(ls -1t backup-*.tar 2>/dev/null | tail -n +2); do rm -f -- "$f"; n=$((n+1)); done
echo "disk cleanup: removed $n old backup(s) from ${data}, now $(df --output=pcent . | tail -1 | tr -d ' ') used"
`;

/**
 * The two flows of the seed, as an agent drives them through mpop-mcp with the SDK's Client, on a real
 * WireGuard mesh of network namespaces: deploying code (two nodes, a service started, indexed, logged,
 * reached over the mesh, found by search, a broken second deploy rolled back on its own) and troubleshooting
 * (one node's data disk, a small tmpfs, filled: found by heal on that node only, its errors in its log, the
 * cleanup script found by search and run, the problem gone, every call in the MCP audit log).
 *
 * The hosts share this machine's filesystem, so each vssh daemon runs in a mount namespace of its own where the
 * host's own folder is bound over one shared path (SRV): every node deploys to the same absolute path, as on a
 * real fleet, and what runs through vssh there sees that node's own files. n2's daemon also has a 4 MiB tmpfs
 * at SRV/data, its data disk, visible to nothing else.
 */
describe.skipIf(!isRoot)('the seed flows through mpop-mcp on the lab', () => {
  let mesh: Mesh;
  let client: Client;
  let stderr = '';
  let srv: string;
  const daemonPid = new Map<string, number>();
  const calls: { tool: string; isError: boolean }[] = [];
  const marker = `seed-marker-${randomBytes(4).toString('hex')}`;
  const auditFile = (): string => join(mesh.hub.home, 'mpop', 'mcp-audit.jsonl');
  const auditLines = (): AuditLine[] => (existsSync(auditFile()) ? readFileSync(auditFile(), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine) : []);
  const node = (name: string): Host => mesh.lab.host(name);
  const ip = (name: string): string => mesh.ips.get(name)!;

  /** call is one tool call as an agent makes it; every call is remembered, to be found in the audit log. */
  const call = async (tool: string, args: Record<string, unknown>): Promise<R> => {
    const r = (await client.callTool({ name: tool, arguments: args }, undefined, { timeout: 300_000 })) as R;
    calls.push({ tool, isError: r.isError === true });
    return r;
  };
  /** get asks a node's service over the mesh, from the hub. */
  const get = async (name: string): Promise<{ version: string; node: string; pid: number }> => {
    const script = `fetch('http://${ip(name)}:${PORT}/', { signal: AbortSignal.timeout(5000) }).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(e.cause?.code ?? e.message); process.exit(1); })`;
    const r = await mesh.lab.exec(mesh.hub, process.execPath, ['-e', script], { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`no answer from ${name} (${ip(name)}:${PORT}) over the mesh: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as { version: string; node: string; pid: number };
  };
  /** inDaemon runs a command in a node's network namespace and its vssh daemon's mount namespace (where its data disk is). */
  const inDaemon = (h: Host, cmd: string, args: string[]) => mesh.lab.exec(h, 'nsenter', ['-t', String(daemonPid.get(h.name)), '-m', '--', cmd, ...args]);

  beforeAll(async () => {
    mesh = await lan(2);
    srv = join(dirname(mesh.hub.home), 'srv');
    mkdirSync(srv, { recursive: true });
    // bind the host's own folder over SRV; n2 also mounts its data disk there (both only in the daemon's namespace)
    const script = 'mount --bind "$1" "$2" && if [ -n "$5" ]; then mount -t tmpfs -o "size=$5" tmpfs "$2/data"; fi && exec "$3" "$4" serve';
    for (const h of [mesh.hub, ...mesh.nodes]) {
      mkdirSync(join(h.home, 'srv', 'data'), { recursive: true });
      const child = mesh.lab.start(h, 'unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', join(h.home, 'srv'), srv, process.execPath, VSSH_BIN, h.name === 'n2' ? '4m' : ''], 'vssh');
      daemonPid.set(h.name, child.pid!);
    }
    for (const h of [mesh.hub, ...mesh.nodes]) {
      await waitFor(`vssh on ${h.name}`, () => mesh.lab.log(h, 'vssh').includes(`vssh serving on ${ip(h.name)}:48291`), 30_000);
      // `ip netns exec`, unshare and sh all exec: the process the lab started is the daemon itself
      expect(readFileSync(`/proc/${daemonPid.get(h.name)}/cmdline`, 'utf8').split('\0')).toEqual([process.execPath, VSSH_BIN, 'serve', '']);
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...mesh.hub.env })) if (v !== undefined) env[k] = v;
    const transport = new StdioClientTransport({
      command: 'ip',
      args: ['netns', 'exec', mesh.hub.ns, process.execPath, MCP_BIN, '--toolsets', 'all', '--allow-destructive', '--deadline', '120'],
      env: { ...env, NO_COLOR: '1' },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    client = new Client({ name: 'seed-flows', version: '1.0.0' });
    await client.connect(transport);
    await client.listTools(); // from here the client checks each structuredContent against the tool's output schema
  }, 240_000);

  afterAll(async () => {
    // the services the deploys started (their pid files are in each host's own folder)
    for (const h of mesh?.nodes ?? []) {
      const pidfile = join(h.home, 'srv', 'run', 'seed-hello.pid');
      if (existsSync(pidfile)) await mesh.lab.exec(h, 'kill', [readFileSync(pidfile, 'utf8').trim()]);
    }
    for (const c of mesh ? mesh.lab.processes(node('n2'), 'store') : []) await mesh.lab.stop(c);
    await client?.close();
    await mesh?.lab.destroy();
  }, 60_000);

  it('flow 1, deploying code: deploy to two nodes, started, indexed, logged, reached over the mesh, found; a broken v2 rolls back on its own', async () => {
    const from = auditLines().length;
    const targets = 'n1,n2';
    const path = join(srv, 'app');
    const release = (version: string, server: string): string => {
      const dir = join(mesh.hub.home, 'seed', `app-${version}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'VERSION'), `${version}\n`);
      writeFileSync(join(dir, 'server.js'), server);
      writeFileSync(join(dir, 'restart.sh'), restartSh, { mode: 0o755 });
      writeFileSync(join(dir, 'check.js'), checkJs);
      return dir;
    };

    // v1 to both nodes over vssh on the mesh: the restart hook starts it, the health check asks it over the mesh
    const v1 = await call('mpop_deploy', { local: release('v1', serverJs('v1', marker)), to: `${targets}:${path}`, restart: 'sh restart.sh', health: 'node check.js', healthTimeoutSeconds: 30 });
    expect(v1.isError, `${textOf(v1)}\n${stderr.slice(-2000)}`).toBeFalsy();
    expect(v1.structuredContent).toMatchObject({ target: targets, path, counts: { ok: 2 } });
    const deployed = v1.structuredContent.nodes as { node: string; outcome: string; value: { status: string; release: string; previous?: string; crossed: { files: number }; restart: { ok: boolean; output: string }; health: { ok: boolean; output: string } } }[];
    expect(deployed.map((n) => n.node).sort()).toEqual(['n1', 'n2']);
    const v1Release = new Map<string, string>();
    for (const n of deployed) {
      expect(n.outcome, n.node).toBe('ok');
      expect(n.value, n.node).toMatchObject({ status: 'deployed', crossed: { files: 4 }, restart: { ok: true }, health: { ok: true, output: 'answered v1' } });
      expect(n.value.previous, n.node).toBeUndefined(); // the first release
      expect(n.value.restart.output).toMatch(new RegExp(`^started ${n.value.release} as pid \\d+$`));
      v1Release.set(n.node, n.value.release);
    }

    // mpop_exec: the service runs on both, from the pid file, in a session of its own (it outlived the hook's exec)
    const ps = await call('mpop_exec', { target: targets, shell: `pid=$(cat ${srv}/run/seed-hello.pid); kill -0 "$pid" && echo "pid $pid sid $(ps -o sid= -p "$pid" | tr -d ' ') $(tr '\\0' ' ' < /proc/$pid/cmdline)"` });
    expect(ps.isError, textOf(ps)).toBeFalsy();
    const pids = new Map<string, number>();
    for (const n of ps.structuredContent.nodes as { node: string; outcome: string; stdout: string }[]) {
      expect(n.outcome, n.node).toBe('ok');
      const m = /^pid (\d+) sid (\d+) node (\S+)/.exec(n.stdout);
      expect(m, n.stdout).not.toBeNull();
      expect(m![2], 'the service leads a session of its own').toBe(m![1]);
      expect(m![3]).toBe(`${path}.releases/${v1Release.get(n.node)}/server.js`);
      pids.set(n.node, Number(m![1]));
    }

    // meshdb_index re-indexes the new code on both nodes (the live path: the symlink to the release)
    const idx = await call('meshdb_index', { target: targets, paths: [path] });
    expect(idx.isError, textOf(idx)).toBeFalsy();
    for (const n of idx.structuredContent.nodes as { node: string; ok: boolean; added: number }[]) expect(n, n.node).toMatchObject({ ok: true, roots: [path], listed: 4, added: 4 });

    // mpop_logs: each node's log says it started, as itself, on its own mesh address
    const logs = await call('mpop_logs', { target: targets, source: `${srv}/log/seed-hello.log`, grep: 'listening on' });
    expect(logs.isError, textOf(logs)).toBeFalsy();
    for (const n of logs.structuredContent.nodes as { node: string; value: { present: boolean; entries: { message: string; time?: string }[] } }[]) {
      expect(n.value.present, n.node).toBe(true);
      expect(n.value.entries.map((e) => e.message), n.node).toEqual([expect.stringContaining(`seed-hello v1 listening on ${ip(n.node)}:${PORT} as ${n.node} (pid ${pids.get(n.node)})`)]);
      expect(Date.now() - Date.parse(n.value.entries[0]!.time!)).toBeLessThan(120_000);
    }

    // an HTTP request over the mesh, from the hub, reaches it on each node
    for (const n of ['n1', 'n2']) expect(await get(n)).toEqual({ service: 'seed-hello', version: 'v1', node: n, pid: pids.get(n) });

    // meshdb_search finds a string of the new code on both nodes
    const found = await call('meshdb_search', { query: marker, mode: 'literal' });
    expect(found.isError, textOf(found)).toBeFalsy();
    const hits = found.structuredContent.hits as { node: string; path: string; lines: { line: number; text: string }[] }[];
    expect(hits.map((h) => `${h.node}:${h.path}`).sort()).toEqual(['n1', 'n2'].map((n) => `${n}:${path}/server.js`));
    for (const h of hits) expect(h.lines[0]).toMatchObject({ line: 1, text: expect.stringContaining(marker) });

    // v2 is broken (it dies at start): its health check fails on each node, and each rolls itself back to v1
    const v2 = await call('mpop_deploy', { local: release('v2', brokenServerJs(marker)), to: `${targets}:${path}`, restart: 'sh restart.sh', health: 'node check.js', healthTimeoutSeconds: 6 });
    expect(v2.isError, textOf(v2)).toBe(true);
    expect(v2.structuredContent.counts).toMatchObject({ failed: 2 });
    for (const n of v2.structuredContent.nodes as { node: string; outcome: string; error: { code: string }; value: { status: string; release: string; previous: string; failure: string; restart: { ok: boolean }; health: { ok: boolean; attempts: number; output: string; timedOut: boolean }; rollbackRestart: { ok: boolean; output: string } } }[]) {
      expect(n.outcome, n.node).toBe('failed');
      expect(n.error.code).toBe('MPOP_HEALTH');
      expect(n.value, n.node).toMatchObject({ status: 'rolled-back', previous: v1Release.get(n.node), restart: { ok: true }, health: { ok: false }, rollbackRestart: { ok: true } });
      expect(n.value.release).not.toBe(v1Release.get(n.node));
      expect(n.value.health.attempts).toBeGreaterThan(1);
      // the last attempt's answer: refused (nothing listens), unless the health timeout cut that attempt short
      if (!n.value.health.timedOut) expect(n.value.health.output).toBe('no answer: ECONNREFUSED');
      expect(n.value.failure).toContain(`back on ${v1Release.get(n.node)}`);
      expect(n.value.rollbackRestart.output).toContain(`started ${v1Release.get(n.node)} as pid`);
    }
    for (const n of ['n1', 'n2']) expect(textOf(v2)).toContain(`${n}: failed: --health exited 1 after `);
    expect(textOf(v2)).toContain(`; back on ${v1Release.get('n1')}`);

    // the old version still answers over the mesh on each node (a new process: the rollback restarted it). The
    // rollback's restart hook returns once the service is launched, and no health check follows a rollback: the
    // service is given the few seconds it takes to listen.
    for (const n of ['n1', 'n2']) {
      const a = await waitFor(`v1 answering again on ${n}`, () => get(n), 15_000, 200);
      expect(a).toMatchObject({ version: 'v1', node: n });
      expect(a.pid).not.toBe(pids.get(n));
    }
    const after = await call('mpop_logs', { target: targets, source: `${srv}/log/seed-hello.log`, lines: 50 });
    for (const n of after.structuredContent.nodes as { node: string; value: { entries: { message: string }[] } }[]) {
      const text = n.value.entries.map((e) => e.message).join('\n');
      expect(text, n.node).toContain("Cannot find module './config.json'"); // v2, dying
      expect(text.match(/seed-hello v1 listening on/g), n.node).toHaveLength(2); // v1, then v1 again
    }

    // every call of the flow is in the audit log, in order, allowed (the server was started with --allow-destructive)
    const audit = auditLines().slice(from);
    expect(audit.map((a) => a.tool)).toEqual(calls.slice(-audit.length).map((c) => c.tool));
    expect(audit.map((a) => a.tool)).toEqual(['mpop_deploy', 'mpop_exec', 'meshdb_index', 'mpop_logs', 'meshdb_search', 'mpop_deploy', 'mpop_logs']);
    expect(audit.map((a) => a.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'error', 'ok']);
    for (const a of audit) expect(a, a.tool).toMatchObject({ decision: 'allowed', client: expect.stringContaining('seed-flows') });
    expect(audit[0]!.targets).toBe(`${targets}:${path}`);
    expect(audit[1]!.targets).toBe(targets);
  }, 240_000);

  it('flow 2, troubleshooting: n2\'s data disk fills; heal finds it there only, its log shows why, search finds the cleanup, exec runs it, heal is clean', async () => {
    const n2 = node('n2');
    const data = join(srv, 'data');
    const storeLog = join(srv, 'log', 'seed-store.log');
    mkdirSync(join(n2.home, 'srv', 'ops'), { recursive: true });
    mkdirSync(join(n2.home, 'srv', 'log'), { recursive: true });
    writeFileSync(join(n2.home, 'srv', 'ops', 'cleanup.sh'), cleanupSh(data), { mode: 0o755 });
    writeFileSync(join(n2.home, 'srv', 'ops', 'store.js'), storeJs(data, storeLog));
    const from = auditLines().length;
    const before = calls.length;
    type Heal = { node: string; outcome: string; checks: { check: string; status: string; diagnosis: string; evidence: { threshold: number; mounts: { mount: string; fs: string; usePct: number; size: number }[] } }[] };
    const diskOf = (r: R, name: string) => (r.structuredContent.nodes as Heal[]).find((n) => n.node === name)!.checks.find((c) => c.check === 'disk')!;

    // the data disk is n2's own: a 4 MiB tmpfs that only its daemon's namespace has, and that heal counts
    const healthy = await call('mpop_heal_check', { target: 'all', checks: ['disk'] });
    expect(healthy.isError, textOf(healthy)).toBeFalsy();
    expect((healthy.structuredContent.nodes as Heal[]).map((n) => n.node).sort()).toEqual(['coordinator', 'n1', 'n2']);
    expect(diskOf(healthy, 'n2').evidence.mounts).toContainEqual(expect.objectContaining({ mount: data, fs: 'tmpfs', size: 4 * 1024 * 1024 }));
    for (const n of ['coordinator', 'n1']) expect(diskOf(healthy, n).evidence.mounts.map((m) => m.mount), n).not.toContain(data);

    // the incident: old backups fill the disk, and the app's writes start failing
    const filled = await inDaemon(n2, process.execPath, ['-e', fillJs(data)]);
    expect(filled.code, filled.stderr).toBe(0);
    expect(Number(filled.stdout)).toBeGreaterThan(5);
    mesh.lab.start(n2, 'nsenter', ['-t', String(daemonPid.get('n2')), '-m', '--', process.execPath, join(srv, 'ops', 'store.js')], 'store');
    await waitFor('the store to fail a write', () => existsSync(join(n2.home, 'srv', 'log', 'seed-store.log')) && readFileSync(join(n2.home, 'srv', 'log', 'seed-store.log'), 'utf8').includes('ENOSPC'), 15_000);

    // mpop_heal_check finds it, on n2 and only on n2
    const sick = await call('mpop_heal_check', { target: 'all', checks: ['disk'] });
    expect(sick.isError).toBe(true);
    expect(sick.structuredContent.problems).toEqual([{ node: 'n2', check: 'disk', diagnosis: expect.stringMatching(new RegExp(`^${data.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is (9\\d|100)% full \\(`)) }]);
    expect(diskOf(sick, 'n2')).toMatchObject({ status: 'problem' });
    for (const n of ['coordinator', 'n1']) expect(diskOf(sick, n).status, n).toBe('ok');
    expect(textOf(sick)).toContain('1 problem(s) left: n2 disk');

    // mpop_logs on n2 shows the errors
    const errs = await call('mpop_logs', { target: 'n2', source: storeLog, grep: 'ENOSPC' });
    expect(errs.isError, textOf(errs)).toBeFalsy();
    const entries = (errs.structuredContent.nodes as { node: string; value: { present: boolean; entries: { message: string }[] } }[])[0]!.value.entries;
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e.message).toContain('ERROR cannot save state: ENOSPC: no space left on device');

    // the runbook is on the node: meshdb indexes its ops folder, and a search for "disk cleanup" finds the script
    const idx = await call('meshdb_index', { target: 'n2', paths: [join(srv, 'ops')] });
    expect(idx.isError, textOf(idx)).toBeFalsy();
    expect(idx.structuredContent.nodes).toMatchObject([{ node: 'n2', ok: true, added: 2 }]);
    const found = await call('meshdb_search', { query: 'disk cleanup' });
    expect(found.isError, textOf(found)).toBeFalsy();
    const hit = (found.structuredContent.hits as { node: string; path: string; ref: string; lines: { text: string }[] }[])[0]!;
    expect(hit).toMatchObject({ node: 'n2', path: join(srv, 'ops', 'cleanup.sh') });
    expect(hit.lines[0]!.text).toContain('disk cleanup');

    // mpop_exec runs it there
    const ran = await call('mpop_exec', { target: hit.node, argv: ['sh', hit.path] });
    expect(ran.isError, textOf(ran)).toBeFalsy();
    const out = (ran.structuredContent.nodes as { node: string; outcome: string; stdout: string }[])[0]!;
    expect(out).toMatchObject({ node: 'n2', outcome: 'ok' });
    expect(out.stdout).toMatch(new RegExp(`^disk cleanup: removed ${Number(filled.stdout) - 1} old backup\\(s\\) from `));

    // mpop_heal_check: the problem is gone, and the app saves again
    const well = await call('mpop_heal_check', { target: 'all', checks: ['disk'] });
    expect(well.isError, textOf(well)).toBeFalsy();
    expect(well.structuredContent.problems).toEqual([]);
    const now = diskOf(well, 'n2');
    expect(now.status).toBe('ok');
    expect(now.evidence.mounts.find((m) => m.mount === data)!.usePct).toBeLessThan(now.evidence.threshold - 5);
    await waitFor('the store to save again', () => readFileSync(join(n2.home, 'srv', 'log', 'seed-store.log'), 'utf8').includes('state saved again'), 10_000);

    // the MCP audit log holds every step of the flow, in order, with its decision and outcome
    const audit = auditLines().slice(from);
    const made = calls.slice(before);
    expect(audit.map((a) => a.tool)).toEqual(made.map((c) => c.tool));
    expect(audit.map((a) => a.tool)).toEqual(['mpop_heal_check', 'mpop_heal_check', 'mpop_logs', 'meshdb_index', 'meshdb_search', 'mpop_exec', 'mpop_heal_check']);
    expect(audit.map((a) => a.outcome)).toEqual(made.map((c) => (c.isError ? 'error' : 'ok')));
    expect(audit.map((a) => a.outcome)).toEqual(['ok', 'error', 'ok', 'ok', 'ok', 'ok', 'ok']);
    for (const a of audit) {
      expect(a.decision, a.tool).toBe('allowed');
      expect(a.durationMs, a.tool).toBeGreaterThanOrEqual(0);
    }
    expect(audit[5]).toMatchObject({ tool: 'mpop_exec', targets: 'n2', args: { target: 'n2', argv: ['sh', join(srv, 'ops', 'cleanup.sh')] } });
    expect(audit[4]).toMatchObject({ tool: 'meshdb_search', args: { query: 'disk cleanup' } });
  }, 180_000);
});
