// vssh-exec: one remote command's round trip, vssh against OpenSSH on loopback in the same run. On a
// connection already open: vssh's Pool (the library, one multiplexed connection) against ssh joining a
// ControlMaster connection. As a whole process from a script: `vssh exec n1 -- true` against
// `ssh HOST true` (a new connection each time). Both servers run on 127.0.0.1 as child processes.
import { performance } from 'node:perf_hooks';
import { Pool } from '../vssh/dist/index.js';
import { cleanup } from './lib/cleanup.mjs';
import { runIfMain } from './lib/main.mjs';
import { timeRuns } from './lib/spawn.mjs';
import { negotiated, sshVersions, startSshd } from './lib/sshd.mjs';
import { msText, ratio, summarize } from './lib/stats.mjs';
import { NODE, VSSH, scratchVssh, startServe, vsshVersion, withoutCaCerts } from './lib/vssh.mjs';

const POOLED_WARMUP = 20;
const POOLED_RUNS = 200;
const CONTROL_RUNS = 100;
const FRESH_RUNS = 30;
const WARMUP = 3;

/** run starts a vssh daemon and an sshd, times the round trips and returns the results as JSON. */
export async function run() {
  try {
    const vault = scratchVssh();
    const daemon = await startServe(vault);
    const sshd = await startSshd();
    const { kex, cipher } = negotiated(sshd);

    const pooled = await timePooled(vault.home);
    await sshd.startMaster();
    const ssh = (extra = []) => ['ssh', [...extra, ...sshd.ssh, sshd.target, 'true']];
    const cli = (env) => [process.execPath, [VSSH, 'exec', NODE, '--', 'true'], { env }];
    const timed = (label, command, [cmd, args, opts = {}], runs, warmup = WARMUP) => ({ label, command, ...summarize(timeRuns(cmd, args, { ...opts, warmup, runs })) });

    const vPool = { label: 'vssh, pooled connection', command: `\`client.exec({ argv: ['true'] })\` on one \`Pool\` client, in this process`, ...summarize(pooled.times) };
    const sControl = timed('ssh, ControlMaster connection', '`ssh -o ControlMaster=auto -o ControlPath=… -o ControlPersist=60 HOST true`, whole process', ssh(sshd.control), CONTROL_RUNS, 5);
    const vCli = timed('vssh CLI, one-shot', '`vssh exec n1 -- true`, whole process', cli(vault.env), FRESH_RUNS);
    const sFresh = timed('ssh, new connection', '`ssh HOST true`, whole process', ssh(), FRESH_RUNS);
    const sCurve = timed('ssh, new connection, curve25519 key exchange', '`ssh -o KexAlgorithms=curve25519-sha256 HOST true`, whole process', ssh(['-o', 'KexAlgorithms=curve25519-sha256']), FRESH_RUNS);
    const rows = [vPool, sControl, vCli];
    const comparisons = [
      { label: 'round trip on an open connection', vssh: vPool.median, other: sControl.median, vsshRow: vPool.label, otherRow: sControl.label },
      { label: 'one-shot command, whole process', vssh: vCli.median, other: sFresh.median, vsshRow: vCli.label, otherRow: sFresh.label },
    ];
    // NODE_EXTRA_CA_CERTS makes every Node process parse a CA bundle at start; where this machine sets
    // it, the CLI is also timed without it, to show what a machine without it pays.
    let vBare;
    if (process.env.NODE_EXTRA_CA_CERTS) {
      vBare = timed('vssh CLI, one-shot, no NODE_EXTRA_CA_CERTS', '`vssh exec n1 -- true`, whole process', cli(withoutCaCerts(vault.env)), FRESH_RUNS);
      rows.push(vBare);
      comparisons.push({ label: 'one-shot command, whole process, no NODE_EXTRA_CA_CERTS', vssh: vBare.median, other: sFresh.median, vsshRow: vBare.label, otherRow: sFresh.label });
    }
    const floor = timed('floor: Node start-up', '`node -e 0`, no NODE_EXTRA_CA_CERTS', [process.execPath, ['-e', '0'], { env: withoutCaCerts(process.env) }], FRESH_RUNS);
    rows.push(sFresh, sCurve, floor);
    comparisons.push({ label: `one-shot vssh${vBare ? ' (no NODE_EXTRA_CA_CERTS)' : ''} vs ssh joining a ControlMaster`, vssh: (vBare ?? vCli).median, other: sControl.median, vsshRow: (vBare ?? vCli).label, otherRow: sControl.label });

    await sshd.stop();
    await daemon.stop();
    return {
      scenario: 'vssh-exec',
      layout: 'versus',
      goal: 'beat', // issue 4: beat OpenSSH, scp and rsync on each
      unit: 'ms',
      columns: ['median', 'p90'],
      title: 'Running one command: `vssh exec` vs `ssh`',
      about:
        `A \`vssh serve\` daemon and an OpenSSH \`sshd\` run side by side on 127.0.0.1 as child processes of the benchmark, and every command runs \`true\` on them. ` +
        `**Open connection:** vssh's \`Pool\` (the library, in the benchmark's own process) sends ${POOLED_RUNS} execs in turn on one multiplexed connection after ${POOLED_WARMUP} untimed; ` +
        `ssh joins a ControlMaster connection opened beforehand (\`ssh -M -N\`), ${CONTROL_RUNS} whole \`ssh\` processes after 5 untimed. ` +
        `**One-shot:** \`vssh exec n1 -- true\` and \`ssh HOST true\` as whole processes, each with a new connection, ${FRESH_RUNS} times after ${WARMUP} untimed. ` +
        `The vssh CLI gets its key from a running vault agent (\`sv unlock\`), as it does on a controller; ssh uses an ed25519 key without a passphrase. ` +
        `ssh negotiated the key exchange ${kex} and the cipher ${cipher}; vssh on loopback is plain TCP with HMAC-SHA256 on every request and reply and no encryption (on a mesh, WireGuard encrypts underneath it), so the two do not do the same cryptographic work. ` +
        'sshd runs each command through the login shell (`bash -c true`); vssh runs `true` directly. ' +
        (sshd.isolatedHome
          ? 'sshd runs in a mount namespace of its own where the home folder is empty: bash started by sshd reads ~/.bashrc, and whatever this machine\'s does would otherwise be timed as part of every ssh command. '
          : 'sshd uses the home folder as it is, so whatever ~/.bashrc does is timed as part of ssh. ') +
        'p90 is the nearest-rank 90th percentile.',
      tools: { node: process.version, vssh: vsshVersion(), ...sshVersions() },
      rows,
      comparisons,
      reading: readExec({ vPool, sControl, vCli, vBare, sFresh, sCurve, floor, connect: pooled.connect, kex }),
    };
  } finally {
    cleanup();
  }
}

/** timePooled opens a Pool on `home`, times the first exec (which connects) and then POOLED_RUNS more after POOLED_WARMUP. */
async function timePooled(home) {
  const pool = new Pool({ home });
  try {
    const client = await pool.client(NODE);
    const once = async () => {
      const start = performance.now();
      const r = await client.exec({ argv: ['true'] });
      const ms = performance.now() - start;
      if (r.exitCode !== 0) throw new Error(`vssh exec true exited ${r.exitCode}`);
      return ms;
    };
    const connect = await once();
    const times = [];
    for (let i = 0; i < POOLED_WARMUP + POOLED_RUNS; i++) {
      const ms = await once();
      if (i >= POOLED_WARMUP) times.push(ms);
    }
    return { connect, times };
  } finally {
    await pool.close();
  }
}

/** versus says how vssh's time compares with another's: "2.3× faster than" or "1.4× slower than". */
function versus(vssh, other) {
  return vssh <= other ? `${ratio(other, vssh)}× faster than` : `${ratio(vssh, other)}× slower than`;
}

/** readExec says in a few sentences what the medians mean. */
function readExec({ vPool, sControl, vCli, vBare, sFresh, sCurve, floor, connect, kex }) {
  const cli = vBare ?? vCli;
  return (
    `On an open connection a vssh exec takes ${msText(vPool.median)} (median; p90 ${msText(vPool.p90)}), ${versus(vPool.median, sControl.median)} ssh joining a ControlMaster (${msText(sControl.median)}), ` +
    'which also starts an `ssh` process each time; the first call on the Pool, which opens the connection, took ' +
    `${msText(connect)}. ` +
    `As a one-shot process, \`vssh exec\` takes ${msText(vCli.median)}, ${versus(vCli.median, sFresh.median)} \`ssh HOST true\` on a new connection (${msText(sFresh.median)}). ` +
    (vBare
      ? `This machine sets NODE_EXTRA_CA_CERTS, which makes every Node process load a CA bundle at start; without it \`vssh exec\` takes ${msText(vBare.median)} (${versus(vBare.median, sFresh.median)} ssh). `
      : '') +
    `Starting Node alone takes ${msText(floor.median)}: that is ${Math.round((floor.median / cli.median) * 100)}% of the one-shot \`vssh exec\`; vssh pays no key exchange, only a TCP connect and one signed \`hello\` round trip, so the rest is loading its code, reading the key from the vault agent (whose peer-credential lookup costs about 10 ms) and the exec itself. ` +
    `The key exchange is a large part of ssh's new connection: with curve25519-sha256 instead of the default ${kex} it takes ${msText(sCurve.median)}, ${msText(sFresh.median - sCurve.median)} less. ` +
    `A script that runs many commands on a node is best served by ssh's ControlMaster (${msText(sControl.median)} each) or by vssh's library, which keeps its connection (${msText(vPool.median)}); the vssh CLI pays Node's start-up on every call.`
  );
}

await runIfMain(import.meta.url, run);
