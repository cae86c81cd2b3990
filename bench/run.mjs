// run.mjs runs every scenario in bench/ and rewrites BENCHMARKS.md from the fresh results
// (`npm run bench`). It installs what the scenarios need from Debian first, when it is missing.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const PAGE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

/** onPath reports whether `cmd` is an executable on PATH. */
function onPath(cmd) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** sh runs `cmd args` with the terminal attached (output to stderr) and throws when it fails. */
function sh(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

/** TOOLS are the Debian packages the scenarios need, each with the programs that show it is there. */
const TOOLS = [
  { packages: ['pass', 'gnupg'], present: () => onPath('pass') && onPath('gpg') },
  { packages: ['openssh-server', 'openssh-client'], present: () => onPath('ssh') && onPath('scp') && onPath('ssh-keygen') && (onPath('sshd') || existsSync('/usr/sbin/sshd')) },
  { packages: ['rsync'], present: () => onPath('rsync') },
  { packages: ['ripgrep'], present: () => onPath('rg') },
  { packages: ['ansible', 'pssh'], present: () => onPath('ansible') && (onPath('parallel-ssh') || onPath('pssh')) },
];

/** installTools installs with apt-get the packages of TOOLS whose programs are not already there. */
function installTools() {
  const missing = TOOLS.filter((t) => !t.present()).flatMap((t) => t.packages);
  if (!missing.length) return;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (...args) => (sudo.length ? sh('sudo', ['apt-get', ...args]) : sh('apt-get', args));
  process.stderr.write(`bench: installing ${missing.join(', ')} from Debian\n`);
  apt('update');
  apt('install', '-y', '--no-install-recommends', ...missing);
}

/**
 * runScenario runs one scenario file in its own process and returns the JSON it prints, with the
 * 1-minute load average before and after it (`load`): on a shared machine, what else was running.
 */
function runScenario(file) {
  process.stderr.write(`bench: ${file}\n`);
  const before = os.loadavg()[0];
  const r = spawnSync(process.execPath, [join(BENCH, file)], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench/${file} failed (exit ${r.status ?? r.signal}); BENCHMARKS.md was left as it was`);
  return { ...JSON.parse(r.stdout), load: [before, os.loadavg()[0]] };
}

/** machine returns the facts about this machine that the numbers depend on. */
function machine() {
  const release = (() => {
    try {
      return readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1];
    } catch {
      return undefined;
    }
  })();
  return [
    ['CPU', os.cpus()[0]?.model ?? 'unknown'],
    ['cores', String(os.availableParallelism())],
    ['memory', `${Math.round(os.totalmem() / 2 ** 30)} GiB`],
    ['OS', `${release ? `${release}, ` : ''}${os.type()} ${os.release()} ${os.arch()}`],
    ['Node', process.version],
    ['load average at start (1 min)', os.loadavg()[0].toFixed(2)],
    ['date', new Date().toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ')],
  ];
}

/** table renders `rows` (arrays of cells) under `head` as a Markdown table. */
function table(head, rows, align) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(align), ...rows.map(line)].join('\n');
}

const ms = (x) => x.toFixed(1);
const times = (x) => `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`;

/** section renders one scenario's result. */
function section(r) {
  if (r.layout === 'versus') return versusSection(r);
  const tools = Object.entries(r.tools ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `## ${r.title}`,
    `${r.about}${tools ? ` Versions: ${tools}.` : ''}`,
    table(
      ['', 'what is timed', 'runs', 'mean ms', 'median ms', 'p95 ms', 'min ms'],
      r.rows.map((row) => [row.label, row.command, row.n, ms(row.mean), ms(row.median), ms(row.p95), ms(row.min)]),
      ['---', '---', '---:', '---:', '---:', '---:', '---:'],
    ),
    table(['ratio', 'of means', 'of medians'], r.ratios.map((x) => [x.label, times(x.mean), times(x.median)]), ['---', '---:', '---:']),
    ...extraTables(r),
    `**Reading.** ${r.reading}`,
    footer(r),
  ].join('\n\n');
}

/** extraTables renders a scenario's own tables (`tables: [{ title, head, align, rows }]`, cells as strings): what is measured but not timed. */
function extraTables(r) {
  return (r.tables ?? []).map((t) => `**${t.title}**\n\n${table(t.head, t.rows, t.align)}`);
}

/** vsshIs says how vssh's time compares with the alternative's: "2.3× faster" or "1.4× slower". */
function vsshIs(vssh, other) {
  const fmt = (x) => (x >= 10 ? x.toFixed(0) : x.toFixed(1));
  return vssh <= other ? `${fmt(other / vssh)}× faster` : `${fmt(vssh / other)}× slower`;
}

/**
 * versusSection renders a scenario that sets vssh against an alternative: its rows with the statistics
 * it names in `columns` (in ms, or in s when `unit` is 's') and MB/s when rows carry it, then one line
 * per comparison saying how much faster or slower vssh is, by medians.
 */
function versusSection(r) {
  const unit = r.unit ?? 'ms';
  const fmt = unit === 's' ? (x) => (x / 1000).toFixed(2) : ms;
  const columns = r.columns ?? ['median', 'p90'];
  const rate = r.rows.some((row) => row.mbps !== undefined);
  const tools = Object.entries(r.tools ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  return [
    `## ${r.title}`,
    `${r.about}${tools ? ` Versions: ${tools}.` : ''}`,
    table(
      ['', 'what is timed', 'runs', ...columns.map((c) => `${c} ${unit}`), ...(rate ? ['MB/s (of the median)'] : [])],
      r.rows.map((row) => [row.label, row.command, row.n, ...columns.map((c) => fmt(row[c])), ...(rate ? [row.mbps === undefined ? '' : row.mbps.toFixed(0)] : [])]),
      ['---', '---', '---:', ...columns.map(() => '---:'), ...(rate ? ['---:'] : [])],
    ),
    table(
      ['comparison (medians)', 'vssh', 'alternative', 'vssh is'],
      r.comparisons.map((c) => [c.label, `${c.vsshRow}: ${fmt(c.vssh)} ${unit}`, `${c.otherRow}: ${fmt(c.other)} ${unit}`, vsshIs(c.vssh, c.other)]),
      ['---', '---', '---', '---:'],
    ),
    `**Reading.** ${r.reading}`,
    footer(r),
  ].join('\n\n');
}

/** footer names the scenario's file and how to run it alone, and the load average around its run. */
function footer(r) {
  const load = r.load ? ` Load average (1 min) before and after it ran: ${r.load.map((x) => x.toFixed(2)).join(' and ')}.` : '';
  return `Scenario \`${r.scenario}\`: [\`bench/${r.scenario}.mjs\`](bench/${r.scenario}.mjs); \`node bench/${r.scenario}.mjs\` runs it alone and prints its JSON.${r.ranAt ? ` Ran ${r.ranAt}.` : ''}${load}`;
}

/**
 * summaryRows are a scenario's lines of the summary table: its own `summary` ({ label, ours, theirs, ratio,
 * target, met }), else one per comparison of a versus scenario (a comparison may carry `target`, the goal in
 * words, and `met`, whether this run reached it; a scenario with `goal: 'beat'` aims to be faster than each).
 */
function summaryRows(r) {
  if (Array.isArray(r.summary)) return r.summary;
  if (r.layout !== 'versus') return (r.ratios ?? []).map((x) => ({ label: x.label, ratio: times(x.median) }));
  const unit = r.unit ?? 'ms';
  const fmt = (x) => (unit === 's' ? `${(x / 1000).toFixed(2)} s` : `${ms(x)} ms`);
  // goal 'beat': the layer's issue asks to beat each alternative (a floor is a limit, not a rival)
  const beat = (c) => r.goal === 'beat' && !/^floor/.test(c.otherRow);
  return r.comparisons.map((c) => ({
    label: c.label,
    ours: fmt(c.vssh),
    theirs: `${fmt(c.other)} (${c.otherRow.replace(/^\d+ nodes: /, '')})`,
    ratio: vsshIs(c.vssh, c.other),
    target: c.target ?? (beat(c) ? 'faster' : undefined),
    met: c.met ?? (beat(c) ? c.vssh <= c.other : undefined),
  }));
}

/** summary is the table at the top of the page: every scenario's headline figures, their target, and whether it was met. */
function summary(results) {
  const met = (m) => (m === true ? 'yes' : m === false ? '**no**' : '');
  const rows = results.flatMap((r) => summaryRows(r).map((x) => [`[${r.scenario}](#${anchor(r.title)})`, x.label, x.ours, x.theirs ?? '', x.ratio ?? '', x.target ?? '', met(x.met)]));
  return ['## Summary', table(['scenario', 'what', 'ours', 'theirs', 'ratio', 'target', 'met'], rows, ['---', '---', '---:', '---', '---:', '---', '---'])].join('\n\n');
}

/** anchor is the id GitHub gives a heading. */
const anchor = (title) => title.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

/** page renders BENCHMARKS.md from the facts about the machine (taken before the runs) and the results. */
function page(facts, results) {
  return [
    '# Benchmarks',
    '<!-- Generated by `npm run bench` (bench/run.mjs). Do not edit by hand: change bench/ and run it again. -->',
    'This page is generated by `npm run bench` (which runs `node bench/run.mjs`) from a fresh run on the machine below, ' +
      'and is never edited by hand: to change it, change `bench/` and run it again. ' +
      'Each scenario is one file in `bench/`, compared with the real alternative or a floor on the same data. ' +
      'Times are wall-clock, in milliseconds unless a table says s (seconds); p90 and p95 are nearest-rank percentiles, so p95 of 20 runs or fewer, and p90 of 10 or fewer, is the slowest run. ' +
      'Numbers from a shared 2-core machine move by several percent between runs: read the ratios more than the digits.',
    summary(results),
    '## Machine',
    table(['', ''], facts, ['---', '---']),
    ...results.map(section),
  ].join('\n\n') + '\n';
}

// Each scenario's JSON is kept in bench/results/ as soon as it finishes, so a scenario that fails loses no
// other's run: `node bench/run.mjs NAME...` runs only those scenarios again, and the page is written once
// every scenario has a result (each section says when and under what load it ran).
installTools();
const RESULTS = join(BENCH, 'results');
mkdirSync(RESULTS, { recursive: true });
const all = readdirSync(BENCH).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').sort();
const asked = process.argv.slice(2).map((a) => a.replace(/\.mjs$/, '') + '.mjs');
const unknown = asked.filter((f) => !all.includes(f));
if (unknown.length) throw new Error(`no scenario ${unknown.join(', ')} in bench/ (there are ${all.join(', ')})`);
const failed = [];
for (const file of asked.length ? asked : all) {
  try {
    const r = { ...runScenario(file), ranAt: new Date().toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ') };
    writeFileSync(join(RESULTS, file.replace(/\.mjs$/, '.json')), JSON.stringify(r, null, 2) + '\n');
  } catch (err) {
    failed.push(file);
    process.stderr.write(`bench: ${err.message}\n`);
  }
}
const missing = all.filter((f) => !existsSync(join(RESULTS, f.replace(/\.mjs$/, '.json'))));
if (missing.length) {
  process.stderr.write(`bench: BENCHMARKS.md left as it was: no result yet for ${missing.join(', ')} (node bench/run.mjs ${missing.map((f) => f.replace(/\.mjs$/, '')).join(' ')})\n`);
  process.exit(1);
}
const results = all.map((f) => JSON.parse(readFileSync(join(RESULTS, f.replace(/\.mjs$/, '.json')), 'utf8')));
writeFileSync(PAGE, page(machine(), results));
process.stderr.write(`bench: wrote ${PAGE}\n`);
if (failed.length) process.exit(1);
