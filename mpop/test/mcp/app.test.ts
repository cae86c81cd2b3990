import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppBridge, RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY } from '@modelcontextprotocol/ext-apps/app-bridge';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopFleet, type Fleet } from '../fleet.js';
import { openMonitorDb } from '../../src/monitor/db.js';
import { runMonitor } from '../../src/monitor/monitor.js';
import { callTool, mcpClient, text, type R } from './client.js';

const ARTIFACTS = fileURLToPath(new URL('../dashboard/artifacts/', import.meta.url));
/** DOCS_SHOT is the README's picture of the app, written by this test. */
const DOCS_SHOT = fileURLToPath(new URL('../../../docs/mcp-app.png', import.meta.url));
const URI = 'ui://mpop/dashboard.html';
const NAMES = ['web1', 'web2', 'db1'];
const HOSTILE_MOUNT = '/mnt/<img src=x onerror="window.__pwned=1">';
const HOSTILE_TEXT = '"><script>window.__pwned=1</script><b id=injected>bold</b> \u202eevil';
/** CSP is what a strict host puts on an app's document: inline script and style only, no network at all (no eval either). */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/**
 * PageTransport carries the AppBridge's messages (running here, in Node) to the app's iframe in Chromium and back:
 * send posts into the iframe from the host page; the host page hands the iframe's messages to window.__fromApp.
 */
class PageTransport implements Transport {
  onmessage?: (m: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (e: Error) => void;
  constructor(private readonly page: Page) {}
  async start(): Promise<void> {}
  async send(message: JSONRPCMessage): Promise<void> {
    await this.page.evaluate((m) => (document.getElementById('app') as HTMLIFrameElement).contentWindow!.postMessage(m, '*'), message as unknown as Record<string, unknown>);
  }
  async close(): Promise<void> {
    this.onclose?.();
  }
}

const HOST = `<!doctype html><html><body style="margin:0">
<iframe id="app" sandbox="allow-scripts" style="width:1200px;height:820px;border:0"></iframe>
<script>
addEventListener('message', (e) => { if (e.source === document.getElementById('app').contentWindow) window.__fromApp(e.data); });
</script></body></html>`;

/**
 * host opens the app as a host does: a page with a sandboxed iframe whose document is the resource's HTML under CSP, and the
 * ext-apps AppBridge (here, in Node, connected to mpop-mcp by `client`) on the other end of its postMessage channel.
 */
async function host(browser: Browser, html: string, errors: string[], theme: 'light' | 'dark' = 'light'): Promise<{ page: Page; bridge: AppBridge; app: Frame }> {
  const page = await (await browser.newContext({ viewport: { width: 1200, height: 820 } })).newPage();
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  const transport = new PageTransport(page);
  await page.exposeFunction('__fromApp', (m: JSONRPCMessage) => transport.onmessage?.(m));
  await page.setContent(HOST);
  const bridge = new AppBridge(hostClient, { name: 'vitest-host', version: '1.0.0' }, { serverTools: {}, serverResources: {}, logging: {} }, { hostContext: { theme, displayMode: 'inline' } });
  const initialized = new Promise<void>((resolve) => (bridge.oninitialized = () => resolve()));
  await bridge.connect(transport);
  const strict = html.replace('<head>', `<head><meta http-equiv="Content-Security-Policy" content="${CSP}">`);
  await page.evaluate((doc) => ((document.getElementById('app') as HTMLIFrameElement).srcdoc = doc), strict);
  await initialized;
  return { page, bridge, app: page.frames().find((f) => f !== page.mainFrame())! };
}
let hostClient: Client;

describe('mpop_dashboard, the fleet view as an MCP App', () => {
  let fleet: Fleet;
  let client: Client;
  let audit: string;
  beforeAll(async () => {
    fleet = await loopFleet(NAMES.length, { names: NAMES });
    await fleet.addDown('down1');
    mkdirSync(join(fleet.home, 'mpop'), { recursive: true });
    writeFileSync(join(fleet.home, 'mpop', 'inventory.yaml'), 'groups:\n  web: [web*]\n  data: [db1]\n');
    writeFileSync(join(fleet.home, 'mpop', 'heal.yaml'), 'monitor:\n  alerts: {disk: 0}\n');
    for (let i = 0; i < 3; i++) {
      await runMonitor(fleet.pool, { db: join(fleet.home, 'mpop', 'monitor.db'), nodes: () => NAMES, once: true, rules: { disk: 0, memory: 0, load: 1000, loadSamples: 3, unreachableRounds: 2 }, timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
    }
    // What a hostile node could make the monitor store: a mount name and an alert text that are markup.
    const db = openMonitorDb(join(fleet.home, 'mpop', 'monitor.db'));
    const last = (db.prepare("SELECT max(t) AS t FROM samples WHERE node = 'web1'").get() as { t: number }).t;
    db.prepare('INSERT INTO disks (node, t, mount, use_pct) VALUES (?, ?, ?, ?)').run('web1', last, HOSTILE_MOUNT, 50);
    db.prepare("INSERT INTO alerts (node, rule, subject, since, value, threshold, message, updated) VALUES ('web1', 'disk', ?, ?, 99, 0, ?, ?)").run(HOSTILE_MOUNT, last, HOSTILE_TEXT, last);
    db.close();
    client = hostClient = await mcpClient(fleet, [], { name: 'app-host' });
    audit = join(fleet.home, 'mpop', 'mcp-audit.jsonl');
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await fleet?.close();
  });

  const calls = (tool: string): number => (existsSync(audit) ? readFileSync(audit, 'utf8').split('\n').filter((l) => l && JSON.parse(l).tool === tool).length : 0);

  it('is a core tool whose _meta points at the ui:// resource, which is listed with the MCP App MIME type', async () => {
    const tool = (await client.listTools()).tools.find((t) => t.name === 'mpop_dashboard');
    expect(tool).toBeDefined();
    expect(tool!.annotations?.readOnlyHint).toBe(true);
    expect(tool!._meta).toMatchObject({ ui: { resourceUri: URI }, [RESOURCE_URI_META_KEY]: URI });
    const listed = (await client.listResources()).resources.find((r) => r.uri === URI);
    expect(listed?.mimeType).toBe(RESOURCE_MIME_TYPE);
  });

  it('serves one self-contained document: the MIME type, no script or stylesheet from anywhere', async () => {
    const { contents } = await client.readResource({ uri: URI });
    const c = contents[0] as { uri: string; mimeType: string; text: string; _meta?: { ui?: { prefersBorder?: boolean } } };
    expect(c.uri).toBe(URI);
    expect(c.mimeType).toBe(RESOURCE_MIME_TYPE);
    expect(c._meta?.ui?.prefersBorder).toBe(true);
    expect(c.text.startsWith('<!doctype html>')).toBe(true);
    expect(c.text).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(c.text).not.toMatch(/<link[^>]*\shref=/i);
    expect(c.text).toContain('globalThis.McpExtApps=');
    // three scripts: uPlot, the ext-apps bundle, the app; nothing in them closes their element early
    expect(c.text.match(/<\/script>/g)).toHaveLength(3);
  });

  it('gives clients without apps the same data: structured content per node with live values and history, and a text table', async () => {
    const r = (await callTool(client, 'mpop_dashboard', {})) as R;
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent;
    expect(s.nodes.map((n: { name: string }) => n.name).sort()).toEqual([...NAMES, 'down1'].sort());
    for (const name of NAMES) {
      const n = s.nodes.find((x: { name: string }) => x.name === name);
      expect(n.online).toBe(true);
      expect(n.reading.memory.totalBytes).toBeGreaterThan(0);
      expect(typeof n.reading.rttMs).toBe('number');
      const h = s.history.find((x: { node: string }) => x.node === name);
      expect(h.t.length).toBeGreaterThanOrEqual(3);
      expect(h.cpu).toHaveLength(h.t.length);
      expect(h.disk['/']).toHaveLength(h.t.length);
    }
    const down = s.nodes.find((x: { name: string }) => x.name === 'down1');
    expect(down.online).toBe(false);
    expect(down.error.message).toBeTruthy();
    expect(s.counts).toMatchObject({ total: 4, online: 3, offline: 1 });
    expect(s.alerts.length).toBeGreaterThanOrEqual(3); // disk: 0 fires on every monitored node
    expect(s.monitored).toBe(true);
    const t = text(r);
    expect(t).toMatch(/^4 nodes: 3 online, \d+ stale, 1 offline/);
    for (const name of NAMES) expect(t).toMatch(new RegExp(`^${name}\\s+online\\s+\\d`, 'm'));
    expect(t).toMatch(/^down1\s+offline/m);
  });

  it('narrows to a target, refuses one that names nothing, and cuts a long history to its points', async () => {
    const one = (await callTool(client, 'mpop_dashboard', { target: '@web', hours: 1 })) as R;
    expect(one.structuredContent.nodes.map((n: { name: string }) => n.name).sort()).toEqual(['web1', 'web2']);
    expect(one.structuredContent.hours).toBe(1);
    const bad = (await callTool(client, 'mpop_dashboard', { target: 'nosuch*' })) as R;
    expect(bad.isError).toBe(true);
    expect(text(bad)).toContain('nosuch');
    const extra = (await callTool(client, 'mpop_dashboard', { colour: 'red' })) as R;
    expect(extra.isError).toBe(true);
    expect(text(extra)).toContain('colour');
  });

  describe('rendered in Chromium inside a host page, with the real AppBridge connected to mpop-mcp', () => {
    let browser: Browser;
    let page: Page;
    let app: Frame;
    let bridge: AppBridge;
    const consoleErrors: string[] = [];
    beforeAll(async () => {
      const { contents } = await client.readResource({ uri: URI });
      const html = (contents[0] as { text: string }).text;
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
      ({ page, bridge, app } = await host(browser, html, consoleErrors));
      // The host's part: the call the agent made, then its result.
      const args = {};
      await bridge.sendToolInput({ arguments: args });
      await bridge.sendToolResult((await client.callTool({ name: 'mpop_dashboard', arguments: args })) as never);
      await app.waitForSelector('#fleet tbody tr[data-node="web1"]', { timeout: 15_000 });
    }, 60_000);
    afterAll(async () => {
      await bridge?.close().catch(() => undefined);
      await browser?.close();
    });

    it('shows a row for every node with its live values, the down node offline, and the alerts', async () => {
      const rows = await app.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => ({ node: (tr as HTMLElement).dataset.node, state: (tr as HTMLElement).dataset.state, cpu: tr.querySelector('[data-col=cpu]')!.textContent, mem: tr.querySelector('[data-col=mem]')!.textContent, disk: tr.querySelector('[data-col=disk]')!.textContent, spark: !!tr.querySelector('svg.spark polyline') })));
      expect(rows.map((r) => r.node).sort()).toEqual([...NAMES, 'down1'].sort());
      for (const r of rows.filter((x) => x.node !== 'down1')) {
        expect(r.state).toBe('online');
        expect(r.mem).toMatch(/^\d+\.\d%$/);
        expect(r.disk).toMatch(/^\d+\.\d% \//);
        expect(r.spark).toBe(true);
      }
      expect(rows.find((r) => r.node === 'down1')).toMatchObject({ state: 'offline', mem: '–' });
      expect(await app.textContent('#counts')).toMatch(/^4 of 4 nodes · 3 online · \d+ stale · 1 offline · \d+ alerts firing$/);
      expect(await app.$$eval('#alerts tr[data-alert]', (trs) => trs.length)).toBeGreaterThanOrEqual(3);
      expect(consoleErrors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    });

    it('shows what a hostile node stored (a mount and an alert text that are markup) as text, and runs none of it', async () => {
      const texts = await app.$$eval('#alerts tr[data-alert] td:last-child', (tds) => tds.map((td) => td.textContent));
      expect(texts).toContain(HOSTILE_TEXT);
      expect(await app.$$eval('#alerts img, #alerts script, #injected', (els) => els.length)).toBe(0);
      await app.click('#fleet tbody tr[data-node="web1"]');
      await app.waitForSelector('#plots .plot canvas');
      await app.click('#fleet tbody tr[data-node="web1"]'); // closes the panel again
      expect(await app.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await app.$$eval('img', (els) => els.length)).toBe(0);
    });

    it('a second instance in a dark host: the theme applies, and a cancelled call says so instead of waiting', async () => {
      const errors: string[] = [];
      const { contents } = await client.readResource({ uri: URI });
      const other = await host(browser, (contents[0] as { text: string }).text, errors, 'dark');
      try {
        await expect.poll(() => other.app.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true);
        await other.bridge.sendToolInput({ arguments: { target: '@web' } });
        expect(await other.app.textContent('#counts')).toBe('reading the fleet…');
        await other.bridge.sendToolCancelled({ reason: 'user action' });
        await expect.poll(() => other.app.textContent('#counts')).toBe('mpop_dashboard was cancelled: user action; Refresh reads the fleet');
        // Refresh then reads with the arguments of the call the host showed (target @web)
        await other.app.click('#refresh');
        await expect.poll(() => other.app.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.node)), { timeout: 15_000 }).toEqual(['web1', 'web2']);
        expect(errors).toEqual([]);
      } finally {
        await other.bridge.close().catch(() => undefined);
        await other.page.close();
      }
    });

    it('filters and sorts in place', async () => {
      await app.fill('#filter-q', 'web');
      expect(await app.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.node))).toEqual(['web1', 'web2']);
      await app.fill('#filter-q', '');
      await app.selectOption('#filter-state', 'offline');
      expect(await app.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.node))).toEqual(['down1']);
      await app.selectOption('#filter-state', '');
      await app.click('th[data-sort=name]'); // name is the sort already: the click turns it around
      expect(await app.$$eval('#fleet tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.node))).toEqual(['web2', 'web1', 'down1', 'db1']);
      await app.click('th[data-sort=name]');
    });

    it('Refresh calls mpop_dashboard through the host and draws the new reading', async () => {
      const before = calls('mpop_dashboard');
      await expect.poll(() => app.textContent('#age'), { timeout: 5000 }).not.toMatch(/^read [01]s ago$/);
      await app.click('#refresh');
      await expect.poll(() => calls('mpop_dashboard'), { timeout: 15_000 }).toBe(before + 1);
      await expect.poll(() => app.textContent('#age'), { timeout: 15_000 }).toMatch(/^read [01]s ago$/);
      // the server keeps the readings between calls: a second reading gives network rates
      expect(await app.textContent('#fleet tbody tr[data-node="web1"] [data-col=net]')).toMatch(/^↓[\d.]+ \w*B\/s ↑[\d.]+ \w*B\/s$/);
    });

    it('a node\'s panel plots its monitor history, and its buttons call read-only tools whose answers show as text', async () => {
      await app.click('#fleet tbody tr[data-node="web1"]');
      await app.waitForSelector('#node-panel:not([hidden]) #plots .plot canvas');
      const points = await app.$$eval('#plots .plot', (ps) => ps.map((p) => Number((p as HTMLElement).dataset.points)));
      expect(points.length).toBe(4); // CPU, memory, load, disk
      for (const n of points) expect(n).toBeGreaterThanOrEqual(3);
      const infos = calls('mpop_info');
      await app.click('#btn-info');
      await app.waitForSelector('#tool-out[data-tool="mpop_info"]', { timeout: 15_000 });
      const out = (await app.textContent('#tool-out'))!;
      expect(out).toMatch(/^web1 \(.*vssh /);
      expect(calls('mpop_info')).toBe(infos + 1);
      await app.click('#btn-services');
      await app.waitForSelector('#tool-out[data-tool="mpop_services"]', { timeout: 15_000 });
      // The README's picture without the hostile alert: resolved in the database, then read again through the app.
      const db = openMonitorDb(join(fleet.home, 'mpop', 'monitor.db'));
      db.prepare('UPDATE alerts SET resolved_at = ? WHERE subject = ?').run(Date.now(), HOSTILE_MOUNT);
      db.close();
      await app.click('#refresh');
      await expect.poll(() => app.$$eval('#alerts tr[data-alert] td:last-child', (tds) => tds.map((td) => td.textContent)), { timeout: 15_000 }).not.toContain(HOSTILE_TEXT);
      expect(await app.getAttribute('#tool-out', 'data-tool')).toBe('mpop_services'); // a refresh keeps the last answer
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'mcp-app.png') });
      copyFileSync(join(ARTIFACTS, 'mcp-app.png'), DOCS_SHOT);
      expect(consoleErrors).toEqual([]);
    });
  });
});
