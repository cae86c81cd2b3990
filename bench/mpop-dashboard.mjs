// mpop-dashboard: the dashboard as a person and a Prometheus server meet it. (1) The fleet table's first
// render for 100 nodes (`vssh serve` processes on loopback, read by the dashboard's own collector) in
// Debian's Chromium through playwright-core: from navigation start to every row in the page, against the
// login page (static HTML and one module) as a floor. (2) GET /metrics on the dashboard's server for a
// 500-node view (the 100 real readings, each given to five node names), with a scraper's bearer token.
// MPOP_DASHBOARD_BENCH_SIZES=nodes,renders,scrapeNodes,scrapes (default 100,15,500,50) shrinks it.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { Collector } from '../mpop/dist/dashboard/collector.js';
import { dashboardApp, listen, closeServer, startDashboard } from '../mpop/dist/dashboard/server.js';
import { Access } from '../mpop/dist/dashboard/access.js';
import { Pool } from '../vssh/dist/index.js';
import { cleanup } from './lib/cleanup.mjs';
import { nodeNames, startServes, writeNodes } from './lib/fleet.mjs';
import { runIfMain } from './lib/main.mjs';
import { msText, ratio, summarize } from './lib/stats.mjs';
import { scratchVssh, vsshVersion } from './lib/vssh.mjs';

const [NODES, RENDERS, SCRAPE_NODES, SCRAPES] = (process.env.MPOP_DASHBOARD_BENCH_SIZES ?? '100,15,500,50').split(',').map(Number);
const WARMUP = 3;
/** RENDER_TARGET_MS and SCRAPE_TARGET_MS are issue 13's targets. */
const RENDER_TARGET_MS = 1000;
const SCRAPE_TARGET_MS = 200;
const CHROMIUM = '/usr/bin/chromium';
const KEY = 'dash_bench-key-not-a-secret-of-anything-real-0000';
const TOKEN = 'metrics_bench';

/** run measures both cases, with every daemon, server and browser stopped at the end. */
export async function run() {
  let browser, dash, pool;
  try {
    const vault = scratchVssh();
    process.stderr.write(`mpop-dashboard: starting ${NODES} vssh serve nodes\n`);
    const fleet = await startServes(vault, nodeNames(NODES));
    writeNodes(vault.home, fleet.ports);
    pool = new Pool({ home: vault.home, retries: 1 });
    const collector = new Collector({ home: vault.home, pool, intervalMs: 600_000 });
    dash = await startDashboard({ home: vault.home, pool, collector, key: KEY, metricsToken: TOKEN, bind: '127.0.0.1', port: 0 });
    const view = await collector.poll();
    if (view.counts.online !== NODES) throw new Error(`only ${view.counts.online} of ${NODES} nodes answered: ${JSON.stringify(view.nodes.find((n) => !n.online)?.error)}`);

    process.stderr.write('mpop-dashboard: first render in Chromium\n');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const login = await ctx.newPage();
    await login.goto(dash.loginUrl());
    await login.waitForSelector('#fleet tbody tr[data-node]');
    await login.close();
    const render = await timePages(ctx, `${dash.url}/`, '#fleet tbody tr[data-node]', NODES);
    const floor = await timePages(ctx, `${dash.url}/login`, '#login-message', 1);

    process.stderr.write(`mpop-dashboard: /metrics for ${SCRAPE_NODES} nodes\n`);
    const scrape = await timeScrapes(view, vault.home, pool);
    await fleet.stop();
    const rows = [
      { label: `first render: ${NODES} rows of the fleet table`, command: 'navigation start to every row in the DOM, at an animation frame', ...render },
      { label: 'floor: the login page', command: 'navigation start to its message in the DOM (static HTML, one module)', ...floor },
      { label: `GET /metrics, ${SCRAPE_NODES} nodes`, command: `fetch on loopback with a bearer token: ${scrape.series} series, ${scrape.bytes} bytes`, ...scrape.stats },
    ];
    return {
      scenario: 'mpop-dashboard',
      title: `The dashboard: first render for ${NODES} nodes, /metrics for ${SCRAPE_NODES}`,
      about:
        `**First render:** ${NODES} \`vssh serve\` processes on 127.0.0.1 read once by the dashboard's collector (sysinfo, ping, hello and network counters per node), then ${RENDERS} page loads after ${WARMUP} untimed in Debian's Chromium (headless, through playwright-core) with the session cookie already set: the time from the navigation's start to the ${NODES} rows of the table in the DOM, read in the page at an animation frame (the page fetches /api/session and /api/fleet and builds the table; the events stream opens after). The floor is the login page, static HTML and one module, loaded the same way. ` +
        `**/metrics:** the dashboard's own handler on a listening server (prom-client registry updated from the view, then rendered) for a view of ${SCRAPE_NODES} nodes made of the ${NODES} real readings, each under five names; ${SCRAPES} GETs after ${WARMUP} untimed, each checked to hold every node's mpop_node_up.`,
      tools: { node: process.version, vssh: vsshVersion(), chromium: await browser.version(), 'playwright-core': JSON.parse(readFileSync(new URL('../node_modules/playwright-core/package.json', import.meta.url), 'utf8')).version, 'prom-client': JSON.parse(readFileSync(new URL('../node_modules/prom-client/package.json', import.meta.url), 'utf8')).version },
      rows,
      ratios: [{ label: 'first render / the login page', mean: ratio(render.mean, floor.mean), median: ratio(render.median, floor.median) }],
      reading:
        `The fleet table of ${NODES} nodes is in the DOM ${msText(render.median)} after the navigation starts (median; p90 ${msText(render.p90 ?? render.max)}), ` +
        `${ratio(render.median, floor.median)}× the login page (${msText(floor.median)}), which is what Chromium, the connection and one module cost with no data: ` +
        `${render.median < RENDER_TARGET_MS ? 'under' : 'over'} the ${RENDER_TARGET_MS} ms target. The collector's reading of the nodes is not in it (the page shows the last one and updates live). ` +
        `\`/metrics\` for ${SCRAPE_NODES} nodes (${scrape.series} series, ${Math.round(scrape.bytes / 1024)} KiB) answers in ${msText(scrape.stats.median)}, ${scrape.stats.median < SCRAPE_TARGET_MS ? 'under' : 'over'} the ${SCRAPE_TARGET_MS} ms target.`,
      summary: [
        { label: `first render of the fleet table, ${NODES} nodes`, ours: msText(render.median), theirs: `${msText(floor.median)} (the login page)`, ratio: `${ratio(render.median, floor.median)}×`, target: `under ${RENDER_TARGET_MS} ms`, met: render.median < RENDER_TARGET_MS },
        { label: `GET /metrics, ${SCRAPE_NODES} nodes`, ours: msText(scrape.stats.median), theirs: '', ratio: '', target: `under ${SCRAPE_TARGET_MS} ms`, met: scrape.stats.median < SCRAPE_TARGET_MS },
      ],
    };
  } finally {
    await browser?.close().catch(() => undefined);
    await dash?.close().catch(() => undefined);
    await pool?.close().catch(() => undefined);
    cleanup();
  }
}

/** timePages loads `url` in a new page WARMUP + RENDERS times and returns the statistics of the time until `selector` matches `want` elements (a selector, not code: the page's CSP forbids eval). */
async function timePages(ctx, url, selector, want) {
  const samples = [];
  for (let i = 0; i < WARMUP + RENDERS; i++) {
    const page = await ctx.newPage();
    await page.goto(url, { waitUntil: 'commit' });
    const t = await page.waitForFunction(([sel, n]) => (document.querySelectorAll(sel).length >= n ? performance.now() : false), [selector, want], { polling: 'raf', timeout: 30_000 });
    const ms = await t.jsonValue();
    await page.close();
    if (i >= WARMUP) samples.push(ms);
  }
  return summarize(samples);
}

/** timeScrapes serves a SCRAPE_NODES-node view through the dashboard's app and times GET /metrics. */
async function timeScrapes(view, home, pool) {
  const nodes = Array.from({ length: SCRAPE_NODES }, (_, i) => {
    const base = view.nodes[i % view.nodes.length];
    return { ...base, name: `m${i + 1}`, groups: [`g${i % 10}`] };
  });
  const big = { ...view, nodes, counts: { ...view.counts, total: SCRAPE_NODES, online: SCRAPE_NODES } };
  const fixed = { view: () => big, intervalMs: view.intervalMs, staleAfterMs: view.staleAfterMs, inventory: undefined, on() {}, off() {} };
  const probe = new Access(KEY, '127.0.0.1', 0);
  let app = dashboardApp({ home, pool, collector: fixed, key: KEY, metricsToken: TOKEN, bind: '127.0.0.1', port: 0 }, probe);
  const { server, port } = await listen((req) => app.fetch(req), '127.0.0.1', 0);
  app = dashboardApp({ home, pool, collector: fixed, key: KEY, metricsToken: TOKEN, bind: '127.0.0.1', port }, new Access(KEY, '127.0.0.1', port));
  const samples = [];
  let text = '';
  try {
    for (let i = 0; i < WARMUP + SCRAPES; i++) {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      text = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text.slice(0, 200)}`);
      const up = text.match(/^mpop_node_up\{/gm)?.length ?? 0;
      if (up !== SCRAPE_NODES) throw new Error(`/metrics had ${up} mpop_node_up series, not ${SCRAPE_NODES}`);
      if (i >= WARMUP) samples.push(ms);
    }
  } finally {
    await closeServer(server);
  }
  return { stats: summarize(samples), bytes: Buffer.byteLength(text), series: text.split('\n').filter((l) => l && !l.startsWith('#')).length };
}

await runIfMain(import.meta.url, run);
