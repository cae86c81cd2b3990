import { copyFileSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopFleet, type Fleet } from '../fleet.js';
import { Collector } from '../../src/dashboard/collector.js';
import { dashboardKeys } from '../../src/dashboard/keys.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { openMonitorDb } from '../../src/monitor/db.js';
import { listAlerts } from '../../src/monitor/alerts.js';
import { runMonitor } from '../../src/monitor/monitor.js';
import { parsePrometheus, sample } from './promtext.js';

/** ARTIFACTS holds the screenshots (gitignored); the fleet table's is also copied to docs/dashboard.png for the README. */
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const DOCS_SHOT = fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url));
const INTERVAL_MS = 1500;
const NAMES = ['web1', 'web2', 'db1', 'gpu1'];

describe('mpop dashboard in a real Chromium, against loopback vssh daemons', () => {
  let fleet: Fleet;
  let dash: Dashboard;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let metricsToken: string;
  let dbFile: string;

  beforeAll(async () => {
    fleet = await loopFleet(NAMES.length, { names: NAMES });
    mkdirSync(join(fleet.home, 'mpop'), { recursive: true });
    writeFileSync(join(fleet.home, 'mpop', 'inventory.yaml'), 'groups:\n  web: [web*]\n  data: [db1]\nroles:\n  trainer: [gpu1]\n');
    // disk: 0 makes every node's / fire a disk alert, so the alert list and mpop_alerts_firing have something real to show.
    writeFileSync(join(fleet.home, 'mpop', 'heal.yaml'), 'monitor:\n  alerts: {disk: 0}\n');
    dbFile = join(fleet.home, 'mpop', 'monitor.db');
    for (let i = 0; i < 3; i++) {
      await runMonitor(fleet.pool, { db: dbFile, nodes: () => NAMES, once: true, rules: { disk: 0, memory: 0, load: 1000, loadSamples: 3, unreachableRounds: 2 }, timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
    }
    const env = { ...process.env, ...fleet.env };
    const keys = await dashboardKeys(fleet.home, env);
    metricsToken = keys.metricsToken;
    const collector = new Collector({ home: fleet.home, pool: fleet.pool, intervalMs: INTERVAL_MS });
    dash = await startDashboard({ home: fleet.home, pool: fleet.pool, collector, key: keys.key, metricsToken, bind: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await ctx.newPage();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await fleet?.close();
  });

  it('without the login link the page is a 401 with the login message, the API and /metrics refuse, a foreign Host is 421', async () => {
    const anon = await browser.newContext();
    const p = await anon.newPage();
    const r = await p.goto(dash.url + '/');
    expect(r?.status()).toBe(401);
    await expect(p.locator('#login-message').textContent()).resolves.toMatch(/Log in needed: open the link that mpop dashboard printed/);
    expect(await p.locator('#fleet').count()).toBe(0);
    for (const path of ['/api/fleet', '/api/nodes/web1', '/api/events', '/metrics', '/assets/app.js']) {
      const res = await fetch(dash.url + path);
      expect(res.status, path).toBe(401);
    }
    // DNS rebinding: a page of another name that resolves to 127.0.0.1 sends its own Host (fetch cannot set Host: node:http does)
    const rebind = await new Promise<number>((resolve, reject) => get({ host: '127.0.0.1', port: dash.port, path: '/', headers: { host: 'evil.example:80' } }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject));
    expect(rebind).toBe(421);
    const guess = await fetch(dash.url + '/login', { method: 'POST', headers: { 'content-type': 'application/json', origin: dash.url }, body: JSON.stringify({ token: 'login_guess' }) });
    expect(guess.status).toBe(401);
    const foreign = await fetch(dash.url + '/login', { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{}' });
    expect(foreign.status).toBe(403);
    await anon.close();
  });

  it('the login link works once, leaves an HttpOnly SameSite=Strict cookie, and the table lists every node with live values', async () => {
    const link = dash.loginUrl();
    await page.goto(link);
    await page.waitForURL(dash.url + '/');
    await page.waitForSelector('#fleet tbody tr[data-node]');
    await page.waitForFunction((n) => document.querySelectorAll('#fleet tbody tr[data-state="online"]').length === n, NAMES.length, { timeout: 10_000 });
    expect(page.url()).not.toContain('#t=');
    const cookie = (await ctx.cookies()).find((c) => c.name === 'mpop_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.content()).not.toContain(cookie.value);

    const rows = await page.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => ({
      node: (tr as HTMLElement).dataset.node,
      cells: Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [(td as HTMLElement).dataset.col, td.textContent ?? ''])),
      memTitle: tr.querySelector('td[data-col="mem"]')?.getAttribute('title') ?? '',
    })));
    expect(rows.map((r) => r.node).sort()).toEqual([...NAMES].sort());
    for (const r of rows) {
      const info = await (await fleet.pool.client(r.node!)).sysinfo();
      expect(r.cells.cpu).toMatch(/^\d+\.\d%$/);
      expect(r.cells.mem).toMatch(/^\d+\.\d%$/);
      expect(r.memTitle).toContain(`of ${info.memory.totalBytes} bytes`);
      expect(r.cells.load).toMatch(/^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
      expect(r.cells.rtt).toMatch(/^\d+(\.\d)? ms$/);
      expect(r.cells.version).toMatch(/^vssh \d+\.\d+\.\d+ · linux\//);
      expect(r.cells.state).toMatch(/^online \d+s ago$/);
    }
    expect(rows.find((r) => r.node === 'web1')!.cells.groups).toBe('web');

    // Live: the row's reading changes without a reload (server-sent events).
    const at = await page.getAttribute('tr[data-node="web1"]', 'data-reading-at');
    await page.waitForFunction((a) => document.querySelector('tr[data-node="web1"]')?.getAttribute('data-reading-at') !== a, at, { timeout: INTERVAL_MS * 4 });

    const again = await browser.newContext();
    const p2 = await again.newPage();
    await p2.goto(link);
    await p2.waitForSelector('#login-message[data-login="refused"]');
    expect(await p2.locator('#login-message').textContent()).toMatch(/already used, has expired/);
    await again.close();
  });

  it('the alerts and heal lists show the monitor\'s firing alerts; a screenshot of the fleet table is written', async () => {
    const db = openMonitorDb(dbFile, { readonly: true });
    const firing = listAlerts(db).filter((a) => a.firing);
    db.close();
    expect(firing.length).toBeGreaterThanOrEqual(NAMES.length);
    await page.waitForSelector('#alerts tr[data-alert]');
    expect(await page.locator('#alerts tr[data-alert]').count()).toBe(firing.length);
    expect(await page.locator('#alerts tr[data-alert="web1:disk:/"]').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'fleet.png'), fullPage: true });
    mkdirSync(join(DOCS_SHOT, '..'), { recursive: true });
    copyFileSync(join(ARTIFACTS, 'fleet.png'), DOCS_SHOT);
    expect(readFileSync(DOCS_SHOT).subarray(1, 4).toString()).toBe('PNG');
  });

  it('the filter and sort live in the URL and survive a reload', async () => {
    await page.fill('#filter-q', 'web');
    await page.waitForFunction(() => document.querySelectorAll('#fleet tbody tr').length === 2);
    await page.click('th[data-sort="cpu"]');
    expect(new URL(page.url()).searchParams.get('q')).toBe('web');
    expect(new URL(page.url()).searchParams.get('sort')).toBe('cpu');
    await page.reload();
    await page.waitForSelector('#fleet tbody tr[data-node]');
    expect(await page.inputValue('#filter-q')).toBe('web');
    expect((await page.$$eval('#fleet tbody tr', (t) => t.map((x) => (x as HTMLElement).dataset.node))).sort()).toEqual(['web1', 'web2']);
    expect(await page.getAttribute('th[data-sort="cpu"]', 'data-dir')).toBe('asc');
    await page.selectOption('#filter-group', 'data');
    await page.fill('#filter-q', '');
    await page.waitForFunction(() => document.querySelectorAll('#fleet tbody tr').length === 1);
    expect(new URL(page.url()).searchParams.get('group')).toBe('data');
    await page.reload();
    await page.waitForSelector('#fleet tbody tr[data-node="db1"]');
    expect(await page.locator('#fleet tbody tr').count()).toBe(1);
    await page.goto(dash.url + '/');
  });

  it('a node whose daemon is stopped turns stale and offline within the refresh interval', async () => {
    await page.waitForSelector('tr[data-node="gpu1"][data-state="online"]');
    const t0 = Date.now();
    await fleet.stop('gpu1');
    await page.waitForSelector('tr[data-node="gpu1"][data-stale="true"]', { timeout: INTERVAL_MS * 4 });
    const staleAfter = Date.now() - t0;
    await page.waitForSelector('tr[data-node="gpu1"][data-state="offline"]', { timeout: INTERVAL_MS * 4 });
    expect(await page.getAttribute('tr[data-node="gpu1"]', 'class')).toContain('stale');
    // stale once the last reading is older than the interval (+1 s slack): within two intervals and a bit of the stop
    expect(staleAfter).toBeLessThan(INTERVAL_MS * 2 + 1000 + 1500);
    expect(await page.locator('tr[data-node="web1"][data-stale="false"]').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-stale.png'), fullPage: true });
    await fleet.start('gpu1');
    await page.waitForSelector('tr[data-node="gpu1"][data-state="online"][data-stale="false"]', { timeout: INTERVAL_MS * 6 });
  });

  it('a node page shows its sysinfo, services, ports, alerts and log lines, and plots drawn from the monitor rows', async () => {
    await page.click('a[href="/node/web1"]');
    await page.waitForURL(dash.url + '/node/web1');
    await page.waitForSelector('#plot-cpu canvas');
    const db = openMonitorDb(dbFile, { readonly: true });
    const rows = (db.prepare('SELECT count(*) AS c FROM samples WHERE node = ?').get('web1') as { c: number }).c;
    const mounts = (db.prepare('SELECT DISTINCT mount FROM disks WHERE node = ?').all('web1') as { mount: string }[]).map((m) => m.mount);
    const cpus = (db.prepare('SELECT cpu FROM samples WHERE node = ? ORDER BY t').all('web1') as { cpu: number | null }[]).map((r) => (r.cpu === null ? null : Math.round(r.cpu * 100) / 100));
    db.close();
    expect(rows).toBe(3);
    const plots = await page.$$eval('.plot', (els) => els.map((el) => {
      const u = (el as unknown as { uplot?: { data: unknown[][]; series: unknown[] } }).uplot;
      return { id: el.id, series: u ? u.series.length - 1 : 0, points: u ? u.data[0]!.length : 0, cpu: u && el.id === 'plot-cpu' ? u.data[1] : null, canvas: !!el.querySelector('canvas') };
    }));
    expect(plots.map((p) => p.id)).toEqual(['plot-cpu', 'plot-mem', 'plot-load', 'plot-disk']);
    for (const p of plots) {
      expect(p.canvas, p.id).toBe(true);
      expect(p.points, p.id).toBe(rows);
    }
    expect(plots.find((p) => p.id === 'plot-disk')!.series).toBe(mounts.length);
    expect(plots.find((p) => p.id === 'plot-cpu')!.cpu).toEqual(cpus);
    const info = await (await fleet.pool.client('web1')).sysinfo();
    expect(await page.locator('#sysinfo').textContent()).toContain(info.hostname);
    expect(await page.locator('#node-alerts').textContent()).toMatch(/firing\s*disk \//);
    await page.waitForSelector('#ports, #services, #logs');
    expect(await page.locator('#logs').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'node.png'), fullPage: true });
  });

  it('the mesh page draws every node as a graph and says why a node has no mesh pairs', async () => {
    await page.click('a[href="/mesh"]');
    await page.waitForSelector('#mesh-graph g.mesh-node', { timeout: 20_000 });
    expect(await page.locator('#mesh-graph g.mesh-node').count()).toBe(NAMES.length);
    // Loopback daemons are not in a WireGuard mesh: each says so (the lab, with real wire, has pairs).
    expect(await page.locator('#mesh-out li').count()).toBe(NAMES.length);
    expect(await page.locator('#mesh-out').textContent()).toMatch(/web1: (wire is not installed there|not in a mesh|wire)/);
    await page.screenshot({ path: join(ARTIFACTS, 'mesh.png'), fullPage: true });
  });

  it('/metrics parses with a strict Prometheus parser and its values match each node\'s sysinfo', async () => {
    const anon = await fetch(dash.url + '/metrics');
    expect(anon.status).toBe(401);
    const wrong = await fetch(dash.url + '/metrics', { headers: { authorization: 'Bearer metrics_wrong' } });
    expect(wrong.status).toBe(401);
    const res = await fetch(dash.url + '/metrics', { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const fam = parsePrometheus(await res.text());
    for (const name of NAMES) {
      const info = await (await fleet.pool.client(name)).sysinfo();
      const group = name.startsWith('web') ? 'web' : name === 'db1' ? 'data' : '';
      expect(sample(fam, 'mpop_node_up', { node: name, group })?.value, name).toBe(1);
      expect(sample(fam, 'mpop_node_memory_total_bytes', { node: name })?.value).toBe(info.memory.totalBytes);
      expect(sample(fam, 'mpop_node_cpu_cores', { node: name })?.value).toBe(info.cpu.count);
      for (const d of info.disks) expect(sample(fam, 'mpop_node_disk_size_bytes', { node: name, mount: d.mount })?.value, `${name} ${d.mount}`).toBe(d.totalBytes);
      expect(sample(fam, 'mpop_vssh_rtt_seconds', { node: name })!.value).toBeGreaterThan(0);
      expect(sample(fam, 'mpop_node_network_receive_bytes_total', { node: name })!.value).toBeGreaterThan(0);
      expect(sample(fam, 'mpop_alerts_firing', { node: name, rule: 'disk' })!.value).toBeGreaterThanOrEqual(1);
      const load = sample(fam, 'mpop_node_load1', { node: name })!.value;
      expect(Math.abs(load - info.load[0])).toBeLessThan(2);
    }
    expect(fam.get('mpop_node_network_receive_bytes_total')?.type).toBe('counter');
    expect(sample(fam, 'mpop_fleet_nodes', { state: 'total' })?.value).toBe(NAMES.length);
    // the same endpoint for the page's own session
    const viaPage = await page.request.get(dash.url + '/metrics');
    expect(viaPage.status()).toBe(200);
  });

  it('read-only: an action is refused even with the session and its CSRF token, and nothing on a page holds a secret', async () => {
    await page.goto(dash.url + '/');
    await page.waitForSelector('#fleet tbody tr[data-node]');
    const r = await page.evaluate(async () => {
      const s = await (await fetch('/api/session')).json();
      const res = await fetch('/api/actions', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Mpop-Csrf': s.csrf }, body: JSON.stringify({ kind: 'restart', node: 'web1', unit: 'cron.service' }) });
      return { status: res.status, body: await res.json() };
    });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/read-only: start it with mpop dashboard --allow-actions/);
    const keys = await dashboardKeys(fleet.home, { ...process.env, ...fleet.env });
    for (const path of ['/', '/api/fleet', '/api/nodes/web1', '/api/session', '/metrics']) {
      const body = await (await page.request.get(dash.url + path)).text();
      expect(body, path).not.toContain(keys.key);
      expect(body, path).not.toContain(keys.metricsToken);
    }
    const headers = (await page.request.get(dash.url + '/')).headers();
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(existsSync(join(fleet.home, 'mpop', 'dashboard-audit.jsonl'))).toBe(false);
  });
});
