// vault-get: reading one secret from a shell script. `sv get NAME` through the unlock agent, as a
// whole process, against `pass show NAME` (GnuPG key without passphrase, gpg-agent warm) and, as
// the floor, `node -e 0`.
import { cleanup } from './lib/cleanup.mjs';
import { runIfMain } from './lib/main.mjs';
import { passVersions, scratchPassStore } from './lib/pass.mjs';
import { timeRuns } from './lib/spawn.mjs';
import { msText, ratio, summarize } from './lib/stats.mjs';
import { SV, scratchVault, sv, unlock } from './lib/sv.mjs';

const NAME = 'bench/token';
const VALUE = 'ghp_benchmark0123456789abcdefghijklmnopqrstuv';
const WARMUP = 3;
const RUNS = 30;

/** run measures the three commands in turn on the same secret and returns the results as JSON. */
export async function run() {
  try {
    const vault = scratchVault();
    sv(vault, ['init', '--shares', '0'], { password: true });
    sv(vault, ['set', NAME], { password: true, input: VALUE });
    unlock(vault);
    const pass = scratchPassStore({ [NAME]: VALUE });

    const expect = (out) => {
      if (out.trim() !== VALUE) throw new Error(`expected the secret on stdout, got ${JSON.stringify(out.slice(0, 80))}`);
    };
    const opts = { warmup: WARMUP, runs: RUNS };
    const rows = [
      { label: 'MeshPOP vault', command: `\`sv get ${NAME}\``, ...summarize(timeRuns(process.execPath, [SV, 'get', NAME], { ...opts, env: vault.env, check: expect })) },
      { label: 'pass + GnuPG', command: `\`pass show ${NAME}\``, ...summarize(timeRuns('pass', ['show', NAME], { ...opts, env: pass.env, check: expect })) },
      { label: 'floor: Node start-up', command: '`node -e 0`', ...summarize(timeRuns(process.execPath, ['-e', '0'], opts)) },
    ];
    const [svRow, passRow, floor] = rows;
    const ratios = [
      { label: '`sv get` / `pass show`', mean: ratio(svRow.mean, passRow.mean), median: ratio(svRow.median, passRow.median) },
      { label: '`sv get` / `node -e 0`', mean: ratio(svRow.mean, floor.mean), median: ratio(svRow.median, floor.median) },
    ];
    // NODE_EXTRA_CA_CERTS makes every Node process parse a CA bundle at start; where this machine sets
    // it, also time both Node commands without it, to show what a machine without it pays.
    let bare;
    if (process.env.NODE_EXTRA_CA_CERTS) {
      const without = (env) => Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));
      const svBare = { label: 'MeshPOP vault, no NODE_EXTRA_CA_CERTS', command: `\`sv get ${NAME}\``, ...summarize(timeRuns(process.execPath, [SV, 'get', NAME], { ...opts, env: without(vault.env), check: expect })) };
      const floorBare = { label: 'floor, no NODE_EXTRA_CA_CERTS', command: '`node -e 0`', ...summarize(timeRuns(process.execPath, ['-e', '0'], { ...opts, env: without(process.env) })) };
      rows.push(svBare, floorBare);
      ratios.push({ label: '`sv get` / `pass show`, no NODE_EXTRA_CA_CERTS', mean: ratio(svBare.mean, passRow.mean), median: ratio(svBare.median, passRow.median) });
      bare = { sv: svBare.median, floor: floorBare.median };
    }
    return {
      scenario: 'vault-get',
      title: 'Reading one secret: `sv get` vs `pass show`',
      about:
        `Each command is spawned as a whole process, ${WARMUP} times untimed and then ${RUNS} times timed, and must print the secret. ` +
        '`sv get` talks to a running unlock agent (`sv unlock`), so no Argon2id runs; `pass` decrypts with a GnuPG key that has no passphrase, ' +
        'and its gpg-agent was started and used before timing. `node -e 0` is the cost of starting Node at all.',
      tools: { node: process.version, ...passVersions(), 'gpg key': pass.key },
      rows,
      ratios,
      reading: readGet(svRow.median, passRow.median, floor.median, bare),
    };
  } finally {
    cleanup();
  }
}

/** readGet says in a few sentences what the medians mean. */
function readGet(svMs, passMs, floorMs, bare) {
  const r = ratio(svMs, passMs);
  const vs = r >= 1 ? `${r}× as long as \`pass show\` (${msText(passMs)})` : `${ratio(passMs, svMs)}× faster than \`pass show\` (${msText(passMs)})`;
  return (
    `\`sv get\` takes ${msText(svMs)} (median), ${vs}. ` +
    `Node's own start-up (\`node -e 0\`, ${msText(floorMs)}) is ${Math.round((floorMs / svMs) * 100)}% of that; ` +
    `the vault's own work on top (loading its code, one round trip to the agent, reading the store, decrypting, writing the audit record) is about ${msText(svMs - floorMs)}. ` +
    (floorMs > passMs
      ? '`pass` is a bash script running gpg and starts no JavaScript runtime: starting Node alone takes longer than the whole `pass show`.'
      : '`pass` is a bash script running gpg, and here that costs more to start than Node does.') +
    (bare
      ? ` This machine sets NODE_EXTRA_CA_CERTS, which makes every Node process load a CA bundle at start: without it Node starts in ${msText(bare.floor)} ` +
        `and \`sv get\` takes ${msText(bare.sv)} (${ratio(bare.sv, passMs)}× \`pass show\`).`
      : '')
  );
}

await runIfMain(import.meta.url, run);
