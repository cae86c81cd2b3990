// mpop-exec: `mpop exec all -- true` across a fleet on loopback, against Ansible's ad-hoc `command` and
// `raw` modules (forks = hosts) and parallel-ssh (-p = hosts) against as many sshd ports, in the same run.
// 100 nodes: 100 `vssh serve` processes. 500 nodes: a swarm (swarm.mjs: a few processes serving many node
// identities, each a real daemon with its own key on its own port, as Salt's minionswarm does).
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ANSIBLE_TUNING, PSSH, ansibleArgs, ansibleSetup, ansibleVersions, checkAnsible, checkPssh, psshArgs } from './lib/ansible.mjs';
import { cleanup } from './lib/cleanup.mjs';
import { MPOP, nodeNames, startServes, writeNodes } from './lib/fleet.mjs';
import { runIfMain } from './lib/main.mjs';
import { run as sh, timeRuns } from './lib/spawn.mjs';
import { startSshds } from './lib/sshds.mjs';
import { sshVersions } from './lib/sshd.mjs';
import { summarize } from './lib/stats.mjs';
import { startSwarm } from './lib/swarm.mjs';
import { scratchVssh, vsshVersion, withoutCaCerts } from './lib/vssh.mjs';

const SWARM_PROCESSES = 4;
const MPOP_RUNS = 10;
const PHASE_RUNS = 5;
/** ANSIBLE_RUNS is how many timed runs each Ansible and parallel-ssh row gets, by fleet size (they take seconds to minutes). */
const ANSIBLE_RUNS = { 100: 3, 500: 2 };
/** SIZES are the two fleet sizes; MPOP_BENCH_SIZES=10,20 shrinks them to try the scenario out quickly. */
const [SMALL, LARGE] = (process.env.MPOP_BENCH_SIZES ?? '100,500').split(',').map(Number);

/** run times both fleet sizes in turn (everything of the first stopped before the second starts) and returns the results as JSON. */
export async function run() {
  try {
    const vault = scratchVssh();
    const small = await fleetCase(vault, SMALL, 'serve');
    const large = await fleetCase(vault, LARGE, 'swarm');
    const rows = [...small.rows, ...large.rows];
    const comparisons = [...small.comparisons, ...large.comparisons];
    return {
      scenario: 'mpop-exec',
      layout: 'versus',
      unit: 's',
      columns: ['median', 'min', 'max'],
      title: 'One command on a fleet: `mpop exec all -- true` vs Ansible and parallel-ssh, 100 and 500 nodes',
      about:
        'Every node is on this machine, on 127.0.0.1, each on a port of its own. ' +
        '**100 nodes:** 100 `vssh serve` processes (one Node process each, its key derived from the controller\'s master) against 100 ports of OpenSSH `sshd`. ' +
        `**500 nodes:** a swarm of ${SWARM_PROCESSES} Node processes serving 125 node identities each, every one a real vssh daemon (the library's \`startDaemon\`, its own key, its own port), as Salt's minionswarm serves many minions from one process (500 Node processes do not fit in memory), against 500 \`sshd\` ports. ` +
        'OpenSSH listens on at most 16 sockets per sshd process (MAX_LISTEN_SOCKS), so there is one sshd per 16 ports: the honest equivalent of a swarm, since sshd forks and re-executes a process of its own for every connection anyway. Its `MaxStartups` is raised to the host count (its default drops connections beyond 10 unauthenticated at once); otherwise its defaults, and its home folder hidden (an empty one in a mount namespace, so no ~/.bashrc is timed). ' +
        `**mpop:** \`mpop exec all -- true\`, the whole process (start-up, the key from the vault agent, a new connection and \`hello\` to every node, the exec, the recap), ${MPOP_RUNS} runs after 2 untimed, with this machine's environment and without NODE_EXTRA_CA_CERTS. ` +
        `**Ansible:** \`ansible all -m command -a true -f N\` and \`-m raw\`, forks = the host count. ${ANSIBLE_TUNING}; the first \`command\` run, which opens those connections, is its own row. ` +
        `**parallel-ssh:** \`${PSSH} -h HOSTS -p N -t 0 true\`, a new ssh connection per host each run (the same key and options as the ssh rows of the other tables). ` +
        `Ansible and parallel-ssh get ${ANSIBLE_RUNS[100]} timed runs at 100 nodes and ${ANSIBLE_RUNS[500]} at 500 (each run takes seconds to minutes). Every run is checked: each tool must report success on every host. ` +
        '**Floors:** Node starting (`node -e 0`), and the same number of `true` processes spawned by Node with no network, split over as many processes as the vssh side has (each node has to start its `true`; on one 2-core machine the nodes do it in turn, on a real fleet each on its own CPU). ' +
        '**Where the time goes** is measured by bench/lib/exec-phases.mjs, a process doing what mpop\'s exec path does with the same library calls, timing each step (medians of ' + PHASE_RUNS + ' runs).',
      tools: { node: process.version, vssh: vsshVersion(), ...ansibleVersions(), ...sshVersions() },
      rows,
      comparisons,
      phases: { [small.n]: small.phases, [large.n]: large.phases },
      memory: { swarmMiB: large.swarmMiB, serveMiB: small.serveMiB },
      summary: [small, large].flatMap(summaryOf),
      reading: readFleet(small, large),
    };
  } finally {
    cleanup();
  }
}

/** fleetCase starts `n` vssh nodes (`how`: separate `vssh serve` processes or a swarm) and `n` sshd ports, times every tool and stops them all. */
async function fleetCase(vault, n, how) {
  process.stderr.write(`mpop-exec: ${n} nodes\n`);
  const names = nodeNames(n);
  const fleet = how === 'serve' ? await startServes(vault, names) : await startSwarm({ ...withoutCaCerts(vault.env), VSSH_LOG_LEVEL: 'warn' }, names, SWARM_PROCESSES);
  writeNodes(vault.home, fleet.ports);
  const memMiB = Math.round(fleet.pids.reduce((s, pid) => s + rssOfPid(pid), 0) / 2 ** 20);
  const checkMpop = (out) => {
    if (!new RegExp(`^ok\\s+${n}\\s`, 'm').test(out)) throw new Error(`mpop exec did not say ok for all ${n} nodes: ${out.trim().split('\n').slice(-3).join(' / ')}`);
  };
  const tag = `${n} nodes`;
  const timed = (label, command, cmd, args, opts) => ({ label: `${tag}: ${label}`, command, ...summarize(timeRuns(cmd, args, opts)) });
  const mpopCmd = [MPOP, 'exec', 'all', '--', 'true'];
  const mpop = timed('mpop exec', '`mpop exec all -- true`, whole process', process.execPath, mpopCmd, { env: vault.env, warmup: 2, runs: MPOP_RUNS, check: checkMpop });
  const rows = [mpop];
  let bare;
  if (process.env.NODE_EXTRA_CA_CERTS) {
    bare = timed('mpop exec, no NODE_EXTRA_CA_CERTS', '`mpop exec all -- true`, whole process', process.execPath, mpopCmd, { env: withoutCaCerts(vault.env), warmup: 1, runs: MPOP_RUNS, check: checkMpop });
    rows.push(bare);
  }
  const phases = [];
  for (let i = 0; i < PHASE_RUNS; i++) phases.push(JSON.parse(sh(process.execPath, [new URL('./lib/exec-phases.mjs', import.meta.url).pathname], { env: withoutCaCerts(vault.env) })));
  const phase = Object.fromEntries(Object.keys(phases[0]).filter((k) => k !== 'chars').map((k) => [k, summarize(phases.map((p) => p[k])).median]));
  await fleet.stop();

  const sshds = await startSshds(n);
  const setup = ansibleSetup(sshds);
  const runs = ANSIBLE_RUNS[n] ?? 2;
  const first = timed('Ansible command, first run', '`ansible all -m command -a true -f N`, opening its ControlPersist connections', 'ansible', ansibleArgs(setup, 'command'), { env: setup.env, warmup: 0, runs: 1, check: checkAnsible(n) });
  const command = timed('Ansible command', '`ansible all -m command -a true -f N`, connections open', 'ansible', ansibleArgs(setup, 'command'), { env: setup.env, warmup: 0, runs, check: checkAnsible(n) });
  const raw = timed('Ansible raw', '`ansible all -m raw -a true -f N`, connections open', 'ansible', ansibleArgs(setup, 'raw'), { env: setup.env, warmup: 0, runs, check: checkAnsible(n) });
  const pssh = timed('parallel-ssh', `\`${PSSH} -h HOSTS -p N true\`, new connections`, PSSH, psshArgs(setup, sshds), { warmup: 0, runs, check: checkPssh(n) });
  // Ansible's ControlPersist masters are children of the ansible runs, not of this process: end them.
  sh('sh', ['-c', `for s in "${setup.env.ANSIBLE_SSH_CONTROL_PATH_DIR}"/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x >/dev/null 2>&1; done; true`]);
  await sshds.stop();

  const floorNode = timed('floor: Node start-up', '`node -e 0`, no NODE_EXTRA_CA_CERTS', process.execPath, ['-e', '0'], { env: withoutCaCerts(process.env), warmup: 2, runs: MPOP_RUNS });
  const spawnProcs = how === 'serve' ? n : SWARM_PROCESSES;
  const floorSpawn = { label: `${tag}: floor: ${n} \`true\` spawned by Node`, command: `${n} \`spawn('true')\` at once, over ${spawnProcs} Node processes, no network`, ...summarize(await spawnFloor(n, spawnProcs)) };
  rows.push(first, command, raw, pssh, floorSpawn, floorNode);
  const best = bare ?? mpop;
  const comparisons = [
    { label: `${tag}, Ansible command`, vssh: best.median, other: command.median, vsshRow: best.label, otherRow: command.label },
    { label: `${tag}, Ansible raw`, vssh: best.median, other: raw.median, vsshRow: best.label, otherRow: raw.label },
    { label: `${tag}, parallel-ssh`, vssh: best.median, other: pssh.median, vsshRow: best.label, otherRow: pssh.label },
  ];
  if (bare) comparisons.push({ label: `${tag}, Ansible command (mpop with NODE_EXTRA_CA_CERTS)`, vssh: mpop.median, other: command.median, vsshRow: mpop.label, otherRow: command.label });
  return { n, how, rows, comparisons, mpop, bare, first, command, raw, pssh, floorNode, floorSpawn, phases: phase, [how === 'serve' ? 'serveMiB' : 'swarmMiB']: memMiB };
}

/** TARGETS are issue 9's: the whole `mpop` process under this many ms per fleet size, and at least 50× Ansible's `command`. */
const TARGETS = { 100: 300, 500: 1000 };
const ANSIBLE_TARGET = 50;

/** summaryOf is a fleet size's lines of the page's summary: against Ansible, raw, parallel-ssh, and the floor of the nodes' own work. */
function summaryOf(c) {
  const m = c.bare ?? c.mpop;
  const s = (x) => `${(x / 1000).toFixed(2)} s`;
  const x = (a, b) => `${(b / a).toFixed(b / a >= 10 ? 0 : 1)}× faster`;
  const limit = TARGETS[c.n];
  return [
    { label: `${c.n} nodes, \`mpop exec all -- true\` vs Ansible \`command\``, ours: s(m.median), theirs: s(c.command.median), ratio: x(m.median, c.command.median), target: `${limit ? `under ${s(limit)}, ` : ''}≥ ${ANSIBLE_TARGET}× faster`, met: (limit === undefined || m.median < limit) && c.command.median / m.median >= ANSIBLE_TARGET },
    { label: `${c.n} nodes, vs Ansible \`raw\``, ours: s(m.median), theirs: s(c.raw.median), ratio: x(m.median, c.raw.median) },
    { label: `${c.n} nodes, vs parallel-ssh`, ours: s(m.median), theirs: s(c.pssh.median), ratio: x(m.median, c.pssh.median) },
    { label: `${c.n} nodes, vs the floor: ${c.n} \`true\` spawned on this machine, no network`, ours: s(m.median), theirs: s(c.floorSpawn.median), ratio: `${(m.median / c.floorSpawn.median).toFixed(1)}× the floor` },
  ];
}

/** rssOfPid returns a process's resident memory in bytes (0 when it is gone). */
function rssOfPid(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(sh('cat', [`/proc/${pid}/status`]))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** spawnFloor times, MPOP_RUNS times, `n` `true` processes spawned at once by `procs` Node processes (already started), no network. */
async function spawnFloor(n, procs) {
  const code = "const n=+process.argv[1];process.stdin.once('data',async()=>{const {spawn}=require('child_process');await Promise.all(Array.from({length:n},()=>new Promise(r=>spawn('true',[],{stdio:'ignore'}).on('exit',r))));process.stdout.write('done\\n')});process.stdout.write('ready\\n')";
  const times = [];
  for (let i = 0; i < MPOP_RUNS + 1; i++) {
    const shares = Array.from({ length: procs }, (_, k) => Math.floor(n / procs) + (k < n % procs ? 1 : 0)).filter((x) => x > 0);
    const children = shares.map((share) => spawn(process.execPath, ['-e', code, String(share)], { env: withoutCaCerts(process.env), stdio: ['pipe', 'pipe', 'inherit'] }));
    const lines = children.map((c) => {
      const waiting = [];
      let buf = '';
      c.stdout.setEncoding('utf8').on('data', (d) => {
        buf += d;
        while (buf.includes('\n') && waiting.length) {
          buf = buf.slice(buf.indexOf('\n') + 1);
          waiting.shift()();
        }
      });
      return () => new Promise((resolve) => waiting.push(resolve));
    });
    const ready = lines.map((next) => next());
    await Promise.all(ready); // every process started and waiting
    const done = lines.map((next) => next());
    const start = performance.now();
    for (const c of children) c.stdin.end('go\n');
    await Promise.all(done);
    if (i > 0) times.push(performance.now() - start);
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  }
  return times;
}

/** readFleet says in a few sentences what the medians mean and where mpop's time goes. */
function readFleet(small, large) {
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const x = (a, b) => `${(b / a).toFixed(b / a >= 10 ? 0 : 1)}×`;
  const one = (c) => {
    const m = c.bare ?? c.mpop;
    const p = c.phases;
    return (
      `On ${c.n} nodes \`mpop exec all -- true\` takes ${s(c.mpop.median)} as a whole process${c.bare ? ` (${s(c.bare.median)} without NODE_EXTRA_CA_CERTS)` : ''}: ` +
      `${x(m.median, c.command.median)} faster than Ansible's \`command\` (${s(c.command.median)}, its first run ${s(c.first.median)}), ${x(m.median, c.raw.median)} faster than \`raw\` (${s(c.raw.median)}) and ${x(m.median, c.pssh.median)} faster than parallel-ssh (${s(c.pssh.median)}). ` +
      `Its time goes to: Node's start ${Math.round(p.start)} ms, loading mpop's exec path ${Math.round(p.modules)} ms, the inventory ${Math.round(p.inventory)} ms, the key from the vault agent ${Math.round(p.key)} ms, a connection and \`hello\` to every node ${Math.round(p.connect)} ms, the exec round trips ${Math.round(p.exec)} ms, the recap ${Math.round(p.render)} ms. ` +
      `Spawning ${c.n} \`true\` processes with no network at all takes ${s(c.floorSpawn.median)} here: the nodes' own work, which a real fleet does on ${c.n} machines at once. `
    );
  };
  return one(small) + one(large) + `The swarm's ${SWARM_PROCESSES} processes held ${large.swarmMiB} MiB for ${large.n} node identities; the ${small.n} \`vssh serve\` processes ${small.serveMiB} MiB.`;
}

await runIfMain(import.meta.url, run);
