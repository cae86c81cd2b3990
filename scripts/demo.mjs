// demo.mjs: the README's main job. A local lab mesh: a coordinator (hub) and two nodes, each a network
// namespace on this machine with its own vault, joined by real WireGuard; then the fleet commands
// run against it (wire, sv, vssh, mpop), and everything is taken down again.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYNC_S, lan, startEcho, tcpEcho, waitFor } from '../e2e/dist/index.js';

if (process.getuid?.() !== 0) {
  console.error('demo: the lab builds network namespaces and WireGuard interfaces, which needs root (sudo npm start).');
  process.exit(1);
}

const BINS = { sv: '../vault/bin/run.js', mpop: '../mpop/bin/run.js' };
/** show runs `bin args` on `host` as a user would type it, prints what it printed, and stops the demo when it fails (unless `mayFail`). */
const show = async (lab, host, args, bin = 'wire', mayFail = false) => {
  console.log(`\n[${host.name}]$ ${bin} ${args.join(' ')}`);
  const r = bin === 'wire' ? await lab.wire(host, args) : bin === 'vssh' ? await lab.vssh(host, args) : await lab.exec(host, process.execPath, [new URL(BINS[bin], import.meta.url).pathname, ...args], { timeoutMs: 60_000 });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.code !== 0 && !mayFail) throw new Error(`${bin} ${args[0]} on ${host.name} exited with ${r.code}`);
};

console.log('MeshPOP lab: a hub and two nodes in network namespaces, joined by WireGuard (wire serve, wire token create, wire up --join) ...');
const started = Date.now();
const mesh = await lan(2);
let failed = false;
try {
  const { lab, hub, nodes } = mesh;
  const [n1, n2] = nodes;
  console.log(`Mesh up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${[...mesh.ips].map(([n, ip]) => `${n}=${ip}`).join(' ')} (nodes sync every ${SYNC_S} s)`);
  await show(lab, hub, ['peers']);
  await show(lab, n1, ['ping', 'n2', '--count', '2']);
  startEcho(lab, n2, mesh.ips.get('n2'));
  await new Promise((r) => setTimeout(r, 300));
  const echo = await tcpEcho(lab, n1, mesh.ips.get('n2'));
  console.log(`\n[n1] TCP to n2 (${mesh.ips.get('n2')}:7000) over the tunnel: ${echo.code === 0 ? `echoed "${echo.stdout.trim()}"` : `FAILED ${echo.stderr}`}`);
  if (echo.code !== 0) throw new Error('TCP over the mesh failed');
  await show(lab, n1, ['status']);
  await show(lab, hub, ['config', 'n1']);
  await show(lab, n1, ['list'], 'sv');

  console.log('\nvssh: a daemon on every host, on its mesh address (vssh serve); the hub is the controller ...');
  for (const h of [hub, n1, n2]) lab.startVssh(h);
  for (const h of [hub, n1, n2]) await waitFor(`vssh on ${h.name}`, () => lab.log(h, 'vssh').includes('vssh serving on'), 20_000);
  await show(lab, hub, ['status'], 'vssh');
  await show(lab, hub, ['exec', 'n1', '--', 'ip', '-o', '-4', 'addr', 'show'], 'vssh');
  await show(lab, hub, ['exec', 'n2', '--shell', 'uptime; df -h / | tail -1'], 'vssh');
  writeFileSync(join(hub.home, 'release.tar'), Buffer.alloc(32 * 1024 * 1024, 7));
  await show(lab, hub, ['put', join(hub.home, 'release.tar'), `n2:${n2.home}/release.tar`], 'vssh');
  await show(lab, hub, ['put', join(hub.home, 'release.tar'), `n2:${n2.home}/release.tar`], 'vssh');
  await show(lab, hub, ['ls', `n2:${n2.home}`], 'vssh');

  console.log('\nmpop: the fleet from the hub, every node found in the Wire registry, one pooled vssh connection each ...');
  await show(lab, hub, ['servers'], 'mpop');
  await show(lab, hub, ['status'], 'mpop');
  await show(lab, hub, ['exec', 'all', '--', 'uname', '-sr'], 'mpop'); // the same answer from every node: one block
  await show(lab, hub, ['groups', 'set', 'web', 'n1', 'n2'], 'mpop');
  await show(lab, hub, ['exec', '@web', '--shell', 'hostname; ip -o -4 addr show | grep -c 10.99'], 'mpop');
  const site = join(hub.home, 'site');
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, 'index.html'), '<h1>v1</h1>\n');
  await show(lab, hub, ['deploy', site, `n2:${n2.home}/www`, '--health', `grep -q v1 ${n2.home}/www/index.html`], 'mpop');
  writeFileSync(join(site, 'index.html'), '<h1>v2</h1>\n');
  await show(lab, hub, ['deploy', site, `n2:${n2.home}/www`], 'mpop');
  await show(lab, hub, ['releases', `n2:${n2.home}/www`], 'mpop');
  await show(lab, hub, ['rollback', `n2:${n2.home}/www`], 'mpop');
  await show(lab, hub, ['exec', 'n2', '--', 'cat', `${n2.home}/www/index.html`], 'mpop');
  await show(lab, hub, ['heal', 'all'], 'mpop', true); // findings exit 1; they are the point

} catch (err) {
  failed = true;
  console.error(`\ndemo failed: ${err.message}`);
} finally {
  await mesh.lab.destroy();
  console.log('\nTaken down: every namespace, interface, process and home the lab made is gone.');
}
process.exit(failed ? 1 : 0);
