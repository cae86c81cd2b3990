import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get, request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { deriveNodeKey } from '@meshpop/vssh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopFleet, type Fleet } from '../fleet.js';
import { Collector } from '../../src/dashboard/collector.js';
import { dashboardKeys } from '../../src/dashboard/keys.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { runMonitor } from '../../src/monitor/monitor.js';

// Node names: vssh's nodes.json takes any string as a name (a daemon's key is derived from it), so each of
// these is a real node with a real daemon. Each payload sets a different number, to tell which one ran.
const IMG = '<img src=x onerror=window.__pwned=1>';
const SCRIPT = '"><script>window.__pwned=2</script>';
const JSURL = 'javascript:window.__pwned=3';
const QUOTES = "q'\"`${window.__pwned=4}";
/** BIDI holds a right-to-left override (U+202E) and no end to it: unless isolated it reorders what follows it. */
const BIDI = '0rtl\u202Eevil';
/** DOWN is a node whose port refuses: its name comes back in error messages and in the monitor's unreachable alert. */
const DOWN = '<svg onload=window.__pwned=5>';
const NAMES = [IMG, SCRIPT, JSURL, QUOTES, BIDI, 'plain'];
// Log lines: anyone on a node can write these (logger(1)); the node page shows the last ones.
const LOG_LINES = ['<img src=x onerror=window.__pwned=8>', '"><script>window.__pwned=9</script> javascript:window.__pwned=10 `${x}` \u202Eevil'];
const isRoot = process.getuid?.() === 0;
/** SYSLOG is a node (root only) whose daemon runs in a mount namespace of its own, with a /var/log/syslog of the test's. */
const SYSLOG = 'syslog-node';
const EXTRA = isRoot ? [SYSLOG] : [];
// Group names: inventory.yaml refuses these (letters, digits, . _ -), an Ansible inventory does not.
const GROUP_IMG = '<img src=x onerror=window.__pwned=6>';
const GROUP_Q = "\"'><svg/onload=window.__pwned=7>";

/**
 * fakeBins writes the node-side programs the dashboard runs on a node (through each loopback daemon, which
 * finds them first on PATH): `wire status --json` with hostile peer names and paths, `systemctl list-units`
 * with a hostile unit, `ss -Htlnup` with a hostile process name. Everything else on the node is real.
 */
function fakeBins(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const node = (name: string, body: string): void => {
    writeFileSync(join(dir, name), `#!${process.execPath}\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  node('wire', `if (process.argv.slice(2).join(' ') !== 'status --json') { console.error('fake wire: only status --json'); process.exit(2); }
process.stdout.write(JSON.stringify({ up: true, peers: [
  { name: ${JSON.stringify(IMG)}, lastHandshake: Date.now() - 5000, path: ${JSON.stringify(`relayed via ${SCRIPT}`)} },
  { name: ${JSON.stringify(SCRIPT)}, lastHandshake: null, path: 'direct' },
] }));`);
  node('systemctl', `if (process.argv[2] !== 'list-units') process.exit(1);
process.stdout.write(JSON.stringify([{ unit: ${JSON.stringify(`${IMG}.service`)}, load: 'loaded', active: 'failed', sub: ${JSON.stringify(SCRIPT)}, description: ${JSON.stringify(`${QUOTES} ${JSURL} ${BIDI}`)} }]));`);
  node('ss', `process.stdout.write(${JSON.stringify(`tcp LISTEN 0 4096 127.0.0.1:8080 0.0.0.0:* users:(("${IMG}",pid=1,fd=3))\n`)});`);
}

/** Dirt is what a page holds that the dashboard never makes itself: a payload that ran, injected elements, handlers, foreign links. */
async function dirt(page: Page): Promise<{ pwned: unknown; injected: string[]; handlers: string[]; scripts: (string | null)[]; hrefs: string[] }> {
  return page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: unknown }).__pwned,
    injected: [...document.querySelectorAll('img, iframe, object, embed, svg svg, main script, body script, svg script, foreignObject')].map((e) => e.outerHTML.slice(0, 80)),
    handlers: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName} ${a.name}`)),
    scripts: [...document.scripts].map((s) => s.getAttribute('src')),
    hrefs: [...document.querySelectorAll('[href]')].map((a) => a.getAttribute('href')!).filter((h) => !h.startsWith('/') || h.startsWith('//')),
  }));
}

async function expectClean(page: Page, where: string): Promise<void> {
  const d = await dirt(page);
  expect(d.pwned, `${where}: a payload ran`).toBeUndefined();
  expect(d.injected, `${where}: injected elements`).toEqual([]);
  expect(d.handlers, `${where}: inline handlers`).toEqual([]);
  expect(d.scripts, `${where}: scripts`).toEqual(['/vendor/uplot.js', '/assets/app.js']);
  expect(d.hrefs, `${where}: links off this origin`).toEqual([]);
}

/** follows measures, inside `el`, whether the text `after` (or the element `afterSel`) is drawn right of the whole of `name`. */
function follows(page: Page, selector: string, match: string, name: string, after: { text?: string; el?: string }): Promise<{ nameRight: number; afterLeft: number }> {
  return page.evaluate(([selector, match, name, after]) => {
    const el = [...document.querySelectorAll(selector)].find((e) => (e as HTMLElement).dataset.pair === match || (e as HTMLElement).dataset.node === match)!;
    const box = el.querySelector('td') ?? el.querySelector('h1') ?? el;
    const texts: Text[] = [];
    const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) texts.push(n as Text);
    const at = (i: number): [Text, number] => {
      for (const t of texts) {
        if (i < t.length) return [t, i];
        i -= t.length;
      }
      throw new Error('past the end');
    };
    const rect = (from: number, to: number): DOMRect => {
      const r = document.createRange();
      r.setStart(...at(from));
      const [t, o] = at(to - 1);
      r.setEnd(t, o + 1);
      return r.getBoundingClientRect();
    };
    const text = texts.map((t) => t.data).join('');
    const i = text.indexOf(name);
    if (i < 0) throw new Error(`"${name}" is not in "${text}"`);
    const nameRight = rect(i, i + name.length).right;
    if (after.el) return { nameRight, afterLeft: box.querySelector(after.el)!.getBoundingClientRect().left };
    const j = text.indexOf(after.text!, i + name.length);
    return { nameRight, afterLeft: rect(j, j + after.text!.length).left };
  }, [selector, match, name, after] as const);
}

/**
 * syslogDaemon starts a vssh daemon for `name` in a child process with a private mount namespace whose
 * /var/log is a tmpfs holding a syslog of `lines` (this machine's /var/log is not touched); it resolves
 * with the child and its port.
 */
async function syslogDaemon(master: Uint8Array, name: string, lines: string[], dir: string): Promise<{ child: ChildProcess; port: number }> {
  const syslog = join(dir, 'syslog');
  writeFileSync(syslog, lines.map((l, i) => `Dec  3 10:00:0${i} ${name} app[42]: ${l}\n`).join(''));
  const script = `import { startDaemon } from '@meshpop/vssh';
let hex = ''; for await (const c of process.stdin) hex += c;
const d = await startDaemon({ key: new Uint8Array(Buffer.from(hex.trim(), 'hex')), name: ${JSON.stringify(name)}, port: 0, hosts: ['127.0.0.1'] });
process.stdout.write(d.port + '\\n');
process.on('SIGTERM', () => d.close().then(() => process.exit(0)));`;
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /var/log && cp "$1" /var/log/syslog && shift && exec "$@"', 'syslog-node', syslog, process.execPath, '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.end(Buffer.from(deriveNodeKey(master, name)).toString('hex'));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.on('exit', (code) => reject(new Error(`the syslog node's daemon exited ${code}`)));
  });
  return { child, port };
}

const raw = (port: number, opts: { method?: string; path?: string; headers: Record<string, string> }): Promise<{ status: number; headers: IncomingHttpHeaders }> =>
  new Promise((resolve, reject) => {
    const req = (opts.method ? request : get)({ host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, headers: res.headers });
    });
    req.on('error', reject);
    if (opts.method) req.end('{}');
  });

/**
 * Hostile names and texts (node, group, service, process and peer names, error messages, alert and heal
 * texts) flow from a real fleet into every page in a real Chromium whose CSP is bypassed (so what is tested
 * is how the page builds its DOM, not only the CSP): none runs, none makes an element, each shows literally.
 */
describe('mpop dashboard: hostile names and texts are shown as text, in a real Chromium', () => {
  let fleet: Fleet;
  let dash: Dashboard;
  let browser: Browser;
  let page: Page;
  let path: string | undefined;
  let syslogNode: { child: ChildProcess; port: number } | undefined;
  const hrefOf = (name: string): string => `/node/${encodeURIComponent(name)}`;

  beforeAll(async () => {
    fleet = await loopFleet(NAMES.length, { names: NAMES });
    await fleet.addDown(DOWN);
    if (isRoot) {
      syslogNode = await syslogDaemon(fleet.master, SYSLOG, LOG_LINES, fleet.home);
      const file = join(fleet.home, 'vssh', 'nodes.json');
      const listed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...listed, [SYSLOG]: { addresses: [`127.0.0.1:${syslogNode.port}`] } }));
    }
    const bin = join(fleet.home, 'fake-bin');
    fakeBins(bin);
    path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`; // the daemons run in this process: their commands find the fakes
    const mpopDir = join(fleet.home, 'mpop');
    mkdirSync(mpopDir, { recursive: true });
    const ansible = join(mpopDir, 'hosts.yaml');
    writeFileSync(ansible, JSON.stringify({ all: { children: { [GROUP_IMG]: { hosts: { [IMG]: null, plain: null } }, [GROUP_Q]: { hosts: { [BIDI]: null } } } } }));
    writeFileSync(join(mpopDir, 'audit.jsonl'), JSON.stringify({ time: '2026-12-03T10:00:00.000Z', node: IMG, check: SCRIPT, action: JSURL, result: '<b>fixed</b>', before: { diagnosis: 'x' }, after: { diagnosis: QUOTES } }) + '\n');
    const db = join(mpopDir, 'monitor.db');
    for (let i = 0; i < 2; i++) {
      await runMonitor(fleet.pool, { db, nodes: () => [...NAMES, ...EXTRA, DOWN], once: true, rules: { disk: 0, memory: 0, load: 1000, loadSamples: 3, unreachableRounds: 1 }, timeoutMs: 10_000 });
    }
    const keys = await dashboardKeys(fleet.home, { ...process.env, ...fleet.env });
    const collector = new Collector({ home: fleet.home, pool: fleet.pool, intervalMs: 1500, ansible });
    dash = await startDashboard({ home: fleet.home, pool: fleet.pool, collector, key: keys.key, bind: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    page = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(dash.loginUrl());
    await page.waitForURL(dash.url + '/');
  });
  afterAll(async () => {
    if (path !== undefined) process.env.PATH = path;
    await browser?.close();
    await dash?.close();
    if (syslogNode) {
      const gone = new Promise((r) => syslogNode!.child.once('exit', r));
      syslogNode.child.kill('SIGTERM');
      await gone;
    }
    await fleet?.close();
  });

  it('the fleet table: names, groups and error messages as text; links stay on this origin, encoded', async () => {
    await page.waitForFunction((n) => document.querySelectorAll('#fleet tbody tr[data-state="online"]').length === n, NAMES.length + EXTRA.length, { timeout: 15_000 });
    await page.waitForFunction((down) => [...document.querySelectorAll<HTMLElement>('#fleet tbody tr')].some((tr) => tr.dataset.node === down && tr.dataset.state === 'offline'), DOWN);
    const rows = await page.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => ({
      node: (tr as HTMLElement).dataset.node!,
      name: tr.querySelector('td[data-col="name"]')!.textContent,
      href: tr.querySelector('td[data-col="name"] a')!.getAttribute('href'),
      groups: tr.querySelector('td[data-col="groups"]')!.textContent,
      title: tr.querySelector('td[data-col="state"]')!.getAttribute('title'),
    })));
    expect(rows.map((r) => r.node).sort()).toEqual([...NAMES, ...EXTRA, DOWN].sort());
    for (const r of rows) {
      expect(r.name).toBe(r.node);
      expect(r.href).toBe(hrefOf(r.node));
    }
    expect(rows.find((r) => r.node === IMG)!.groups).toBe(GROUP_IMG);
    expect(rows.find((r) => r.node === BIDI)!.groups).toBe(GROUP_Q);
    // The refused connection's error message names the node: shown in the state's tooltip, as text.
    expect(rows.find((r) => r.node === DOWN)!.title).toContain(DOWN);
    expect(await page.$$eval('#filter-group option', (os) => os.map((o) => o.textContent))).toEqual(expect.arrayContaining([GROUP_IMG, GROUP_Q]));
    await expectClean(page, 'fleet');

    // A hostile group as the filter: kept in the URL (encoded) and read back from it after a reload.
    await page.selectOption('#filter-group', GROUP_IMG);
    await page.waitForFunction(() => document.querySelectorAll('#fleet tbody tr').length === 2);
    expect(new URL(page.url()).searchParams.get('group')).toBe(GROUP_IMG);
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#fleet tbody tr').length === 2);
    expect((await page.$$eval('#fleet tbody tr', (t) => t.map((x) => (x as HTMLElement).dataset.node))).sort()).toEqual([IMG, 'plain'].sort());
    await expectClean(page, 'fleet filtered by a hostile group');
    await page.goto(dash.url + '/');
  });

  it('the alerts and heal lists: alert messages (with node names and an error message) and heal records as text', async () => {
    await page.waitForSelector('#alerts tr[data-alert]');
    const alerts = await page.$$eval('#alerts tr[data-alert]', (trs) => trs.map((tr) => ({ key: (tr as HTMLElement).dataset.alert!, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })));
    const disk = alerts.find((a) => a.key === `${IMG}:disk:/`);
    expect(disk, JSON.stringify(alerts.map((a) => a.key))).toBeTruthy();
    expect(disk!.cells[0]).toBe(IMG);
    expect(disk!.cells[4]).toMatch(new RegExp(`^${IMG.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:/ is \\d+(\\.\\d+)?% full`));
    const down = alerts.find((a) => a.key === `${DOWN}:unreachable:`);
    expect(down, JSON.stringify(alerts.map((a) => a.key))).toBeTruthy();
    expect(down!.cells[4]!.startsWith(`${DOWN} has not answered for 1 rounds: `)).toBe(true);
    const heal = await page.locator('#heal tr').nth(1).evaluate((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(heal.slice(1)).toEqual([IMG, SCRIPT, JSURL, '<b>fixed</b>', QUOTES]);
    await page.click('a[href="/alerts"]');
    await page.waitForSelector('#alerts tr[data-alert]');
    expect(await page.locator('#alerts').textContent()).toContain(`${DOWN} has not answered`);
    await expectClean(page, 'alerts page');
  });

  it('a node page for each hostile name: name, groups, services, ports, alerts and error messages as text', async () => {
    for (const name of [IMG, SCRIPT, JSURL, QUOTES, BIDI]) {
      await page.click('a[href="/"][data-nav]');
      await page.click(`#fleet a[href="${hrefOf(name)}"]`);
      await page.waitForSelector('#services table, #services p');
      expect(new URL(page.url()).pathname).toBe(hrefOf(name));
      expect(await page.locator('.node-head h1').textContent()).toBe(`${name} online`);
      expect(await page.locator('.node-head').getAttribute('data-node')).toBe(name);
      const services = await page.locator('#services').textContent();
      expect(services).toContain(`${IMG}.service`);
      expect(services).toContain(SCRIPT);
      expect(services).toContain(`${QUOTES} ${JSURL} ${BIDI}`);
      expect(await page.locator('#ports').textContent()).toContain(`${IMG}[1]`);
      expect(await page.locator('#node-alerts').textContent()).toContain(`${name}:/ is `);
      // No system log on this machine: the reason names the node, as text.
      expect(await page.locator('#logs').textContent()).toContain(name);
      await expectClean(page, `node page of ${JSON.stringify(name)}`);
    }
    expect(await page.locator('.node-head p').textContent()).toContain(`groups ${GROUP_Q}`);
    // The bidi override stays inside the name: the state badge is still drawn after it.
    const h1 = await follows(page, '.node-head', BIDI, BIDI, { el: '.badge' });
    expect(h1.afterLeft).toBeGreaterThanOrEqual(h1.nameRight - 0.5);

    // Loaded directly (a reload, a bookmark): the route takes the encoded name, "/" and all.
    await page.goto(dash.url + hrefOf(SCRIPT));
    await page.waitForSelector('#services table');
    expect(await page.locator('.node-head h1').textContent()).toBe(`${SCRIPT} online`);
    await expectClean(page, 'node page loaded directly');

    // A malformed escape in the address: the page says there is no such node (decodeURIComponent would throw).
    await page.goto(dash.url + '/node/%E0%A4%A');
    await page.waitForSelector('main .error');
    expect(await page.locator('main .error').textContent()).toBe('no node "%E0%A4%A" in the fleet');
    await expectClean(page, 'node page of a malformed address');

    await page.goto(dash.url + hrefOf(DOWN));
    await page.waitForSelector('#services p');
    expect(await page.locator('.node-head h1').textContent()).toBe(`${DOWN} offline`);
    expect(await page.locator('#sysinfo').textContent()).toContain(DOWN);
    expect(await page.locator('#services').textContent()).toContain(`${DOWN} did not answer the last poll`);
    await expectClean(page, 'node page of the node that is down');
  });

  it.skipIf(!isRoot)('the last log lines of a node (its syslog, which any user there can write to) as text', async () => {
    await page.goto(dash.url + hrefOf(SYSLOG));
    await page.waitForSelector('#logs pre');
    const text = await page.locator('#logs pre').textContent();
    expect(text!.split('\n')).toEqual(LOG_LINES.map((l, i) => `Dec  3 10:00:0${i} ${SYSLOG} app[42]: ${l}`));
    await expectClean(page, 'node page with hostile log lines');
  });

  it('the mesh graph: peer names, relay names and notes as text, a bidi name kept to itself', async () => {
    await page.click('a[href="/mesh"]');
    await page.waitForSelector('#mesh-graph g.mesh-node', { timeout: 20_000 });
    const nodes = await page.$$eval('#mesh-graph g.mesh-node', (gs) => gs.map((g) => ({ node: g.getAttribute('data-node'), text: g.querySelector('text')!.textContent, title: g.querySelector('title')!.textContent })));
    expect(nodes.map((n) => n.node).sort()).toEqual([...NAMES, ...EXTRA, DOWN].sort());
    for (const n of nodes) expect(n.text).toBe(n.node);
    const pairs = await page.$$eval('#mesh-pairs tr[data-pair]', (trs) => trs.map((tr) => ({ pair: (tr as HTMLElement).dataset.pair!, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })));
    const bidiImg = pairs.find((p) => p.pair === `${BIDI}\n${IMG}`);
    expect(bidiImg, JSON.stringify(pairs.map((p) => p.pair))).toBeTruthy();
    expect(bidiImg!.cells.slice(0, 2)).toEqual([`${BIDI} ↔ ${IMG}`, `relayed via ${SCRIPT}`]);
    expect(await page.$$eval('#mesh-graph line title', (ts) => ts.map((t) => t.textContent!.replace(/[\u2068\u2069]/g, '')))).toContain(`${BIDI} ↔ ${IMG}: relayed via ${SCRIPT}, handshake 5 s ago`);
    expect(await page.$$eval('#mesh-out li', (lis) => lis.map((li) => li.textContent))).toContain(`${DOWN}: did not answer the last poll`);
    // Without isolation the override would draw " ↔ <img ...>" reversed, left of the name's end.
    const order = await follows(page, '#mesh-pairs tr', `${BIDI}\n${IMG}`, BIDI, { text: '↔' });
    expect(order.afterLeft).toBeGreaterThanOrEqual(order.nameRight - 0.5);
    await expectClean(page, 'mesh');
  });

  it('every answer carries the CSP and nosniff, the refusals too, and the CSP alone stops an injected handler', async () => {
    const csp = (h: IncomingHttpHeaders | Record<string, string>): string => String(h['content-security-policy'] ?? '');
    const page1 = (await page.request.get(dash.url + '/')).headers();
    expect(csp(page1)).toContain("script-src 'self'");
    expect(csp(page1)).toContain("default-src 'none'");
    expect(csp(page1)).not.toMatch(/unsafe-inline|unsafe-eval/);
    const api = await page.request.get(dash.url + `/api/nodes/${encodeURIComponent(IMG + 'x')}`);
    expect(api.status()).toBe(404);
    expect(api.headers()['content-type']).toMatch(/^application\/json/);
    expect(api.headers()['x-content-type-options']).toBe('nosniff');
    for (const path of ['/api/fleet', '/assets/app.js', '/vendor/uplot.js', '/login']) {
      const h = (await page.request.get(dash.url + path)).headers();
      expect(h['x-content-type-options'], path).toBe('nosniff');
      expect(csp(h), path).toContain("script-src 'self'");
    }
    // The refusals answer before any route: a foreign Host (421, which repeats the Host) and a foreign Origin (403).
    const rebind = await raw(dash.port, { headers: { host: 'evil.example:80' } });
    expect(rebind.status).toBe(421);
    expect(rebind.headers['x-content-type-options']).toBe('nosniff');
    expect(csp(rebind.headers)).toContain("default-src 'none'");
    const foreign = await raw(dash.port, { method: 'POST', path: '/login', headers: { host: `127.0.0.1:${dash.port}`, origin: 'http://evil.example', 'content-type': 'application/json' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['x-content-type-options']).toBe('nosniff');
    expect(csp(foreign.headers)).toContain("default-src 'none'");

    // With the CSP in force, markup put into the page by hand does not run either.
    const strict = await browser.newContext();
    const p = await strict.newPage();
    await p.goto(dash.loginUrl());
    await p.waitForURL(dash.url + '/');
    await p.evaluate((x) => void document.body.insertAdjacentHTML('beforeend', x), `${IMG}${SCRIPT}`);
    await p.waitForTimeout(200);
    expect(await p.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    await strict.close();
  });
});
