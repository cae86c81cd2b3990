// vault-unlock: the price of unlocking at the default Argon2id parameters (m=64 MiB, t=3, p=4): the
// whole `sv unlock` process up to a ready agent, and its parts timed alone: starting the CLI,
// LocalVault.unlock, and starting the agent. The floor is LocalVault.unlock on a vault made with the
// smallest Argon2id parameters: everything but the key derivation.
import { performance } from 'node:perf_hooks';
import { DEFAULT_KDF, LocalVault, initVault, startAgent } from '../vault/dist/index.js';
import { cleanup } from './lib/cleanup.mjs';
import { runIfMain } from './lib/main.mjs';
import { timeRuns } from './lib/spawn.mjs';
import { msText, ratio, summarize } from './lib/stats.mjs';
import { PASSWORD, SV, lock, scratchVault, unlock } from './lib/sv.mjs';

const LIBRARY_RUNS = 10;
const PROCESS_RUNS = 5;
const SMALLEST_KDF = { algorithm: 'argon2id', memoryKiB: 8, iterations: 1, parallelism: 1 };

/** run times the unlocks and returns the results as JSON. */
export async function run() {
  try {
    const vault = scratchVault();
    await initVault({ home: vault.home, password: PASSWORD, shares: null });
    const cheap = scratchVault();
    await initVault({ home: cheap.home, password: PASSWORD, shares: null, kdf: SMALLEST_KDF });
    const open = () => LocalVault.unlock({ password: PASSWORD }, { home: vault.home });
    const openCheap = () => LocalVault.unlock({ password: PASSWORD }, { home: cheap.home });
    const held = await open();

    const rows = [
      {
        label: 'whole command',
        command: '`sv unlock`, until the agent is ready',
        ...summarize(await timeCalls(PROCESS_RUNS, () => unlock(vault), () => lock(vault))),
      },
      {
        label: 'part: Node + CLI start',
        command: '`sv --version`',
        ...summarize(timeRuns(process.execPath, [SV, '--version'], { warmup: 1, runs: PROCESS_RUNS, check: expectVersion })),
      },
      {
        label: 'part: library unlock',
        command: '`LocalVault.unlock({ password })`',
        ...summarize(await timeCalls(LIBRARY_RUNS, open, (v) => v.close())),
      },
      {
        label: 'part: agent start',
        command: '`startAgent(vault)`, until it listens',
        ...summarize(await timeCalls(PROCESS_RUNS, async () => vault.agents.add(await startAgent(held, 120_000)), () => lock(vault))),
      },
      {
        label: 'floor: all but Argon2id',
        command: '`LocalVault.unlock` on a vault with m=8 KiB, t=1, p=1',
        ...summarize(await timeCalls(LIBRARY_RUNS, openCheap, (v) => v.close())),
      },
    ];
    await held.close();
    const [proc, cli, lib, agent, floor] = rows;
    const m = DEFAULT_KDF;
    return {
      scenario: 'vault-unlock',
      title: `Unlocking at the default Argon2id parameters (m=${m.memoryKiB / 1024} MiB, t=${m.iterations}, p=${m.parallelism})`,
      about:
        '`sv unlock` starts Node and the CLI, runs `LocalVault.unlock` (Argon2id, opening the master key, verifying the store), ' +
        'then spawns the unlock agent and waits until it listens; the parts are also timed alone. ' +
        `Each runs once untimed, then ${PROCESS_RUNS} times (processes, agents) or ${LIBRARY_RUNS} times (library unlocks) timed; ` +
        'every agent is stopped with `sv lock`, untimed, before the next run.',
      tools: { node: process.version },
      rows,
      ratios: [
        { label: '`sv unlock` / `LocalVault.unlock`', mean: ratio(proc.mean, lib.mean), median: ratio(proc.median, lib.median) },
        { label: '`LocalVault.unlock` / floor', mean: ratio(lib.mean, floor.mean), median: ratio(lib.median, floor.median) },
      ],
      reading:
        `In the library an unlock takes ${msText(lib.median)} (median), of which only ${msText(floor.median)} is not Argon2id: ` +
        'the key derivation is the cost, as it is meant to be. ' +
        `The whole \`sv unlock\` takes ${msText(proc.median)}, ${ratio(proc.median, lib.median)}× that: starting Node and the CLI (${msText(cli.median)}) ` +
        `and starting the agent, itself a Node process (${msText(agent.median)}), together cost ${cli.median + agent.median > lib.median ? 'more' : 'less'} than the key derivation. ` +
        'That is paid once per unlock; reads through the agent do not pay it again.',
    };
  } finally {
    cleanup();
  }
}

/** expectVersion throws unless `out` is what `sv --version` prints. */
function expectVersion(out) {
  if (!/^@meshpop\/vault\/\d/.test(out)) throw new Error(`sv --version printed ${JSON.stringify(out.slice(0, 80))}`);
}

/** timeCalls awaits `fn` once untimed, then `runs` times timed; `after(result)` runs untimed after each call. */
async function timeCalls(runs, fn, after) {
  const times = [];
  for (let i = 0; i <= runs; i++) {
    const start = performance.now();
    const result = await fn();
    const ms = performance.now() - start;
    await after(result);
    if (i > 0) times.push(ms);
  }
  return times;
}

await runIfMain(import.meta.url, run);
