import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopFleet, type Fleet } from '../fleet.js';
import { Collector } from '../../src/dashboard/collector.js';
import { dashboardKeys } from '../../src/dashboard/keys.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { openMonitorDb } from '../../src/monitor/db.js';
import { runMonitor } from '../../src/monitor/monitor.js';

const INTERVAL_MS = 1000;

/** PlotState is what a test reads of one uPlot chart on the node page. */
interface PlotState {
  points: number;
  last: number | null;
  lastT: number | null;
  xMin: number;
  xMax: number;
  width: number;
  holderWidth: number;
  canvasWidth: number;
  zoomed: string;
  canvasMark: string | null;
}

const plotState = (page: Page, id: string): Promise<PlotState | null> =>
  page.evaluate((id) => {
    const el = document.getElementById(id) as (HTMLElement & { uplot?: { data: (number | null)[][]; scales: { x: { min: number; max: number } }; width: number } | null }) | null;
    const u = el?.uplot;
    if (!el || !u) return null;
    const t = u.data[0]!;
    const canvas = el.querySelector('canvas')!;
    return {
      points: t.length,
      last: (u.data[1]![t.length - 1] ?? null) as number | null,
      lastT: (t[t.length - 1] ?? null) as number | null,
      xMin: u.scales.x.min,
      xMax: u.scales.x.max,
      width: u.width,
      holderWidth: el.clientWidth,
      canvasWidth: canvas.getBoundingClientRect().width,
      zoomed: el.dataset.zoomed ?? '',
      canvasMark: canvas.dataset.mark ?? null,
    };
  }, id);

/**
 * The node page's plots follow the monitor database without a reload: a monitor round run while the page is
 * open reaches the plots through the page's one live mechanism (the fleet view's server-sent events).
 */
describe('the node page\'s trend plots, live, in a real Chromium', () => {
  let fleet: Fleet;
  let dash: Dashboard;
  let browser: Browser;
  let page: Page;
  let dbFile: string;
  const monitor = (nodes: string[]) => runMonitor(fleet.pool, { db: dbFile, nodes: () => nodes, once: true, timeoutMs: 10_000 });
  const lastCpu = (node: string): { t: number; cpu: number | null } => {
    const db = openMonitorDb(dbFile, { readonly: true });
    try {
      const r = db.prepare('SELECT t, cpu FROM samples WHERE node = ? ORDER BY t DESC LIMIT 1').get(node) as { t: number; cpu: number | null };
      return { t: r.t / 1000, cpu: r.cpu === null ? null : Math.round(r.cpu * 100) / 100 };
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    fleet = await loopFleet(2, { names: ['n1', 'n2'] });
    mkdirSync(join(fleet.home, 'mpop'), { recursive: true });
    dbFile = join(fleet.home, 'mpop', 'monitor.db');
    // n1 has two rows when its page opens; n2 none yet.
    await monitor(['n1']);
    await new Promise((r) => setTimeout(r, 200));
    await monitor(['n1']);
    const keys = await dashboardKeys(fleet.home, { ...process.env, ...fleet.env });
    const collector = new Collector({ home: fleet.home, pool: fleet.pool, intervalMs: INTERVAL_MS });
    dash = await startDashboard({ home: fleet.home, pool: fleet.pool, collector, key: keys.key, bind: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(dash.loginUrl());
    await page.waitForURL(dash.url + '/');
  });
  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await fleet?.close();
  });

  it('a monitor round run while the page is open grows every plot by a point, on the same canvas, without a reload', async () => {
    await page.goto(dash.url + '/node/n1');
    await page.waitForSelector('#plot-cpu canvas');
    const before = (await plotState(page, 'plot-cpu'))!;
    expect(before.points).toBe(2);
    expect(before.lastT).toBe(lastCpu('n1').t);
    expect(await page.locator('#trends h2').textContent()).toContain('2 rows');
    // Marks that a reload or a rebuilt chart would lose.
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: number }).__sameDocument = 1;
      for (const c of document.querySelectorAll('.plot canvas')) (c as HTMLElement).dataset.mark = 'first';
    });
    // The memory plot is zoomed in (as a drag on it does) to its first half.
    const zoom = await page.evaluate(() => {
      const u = (document.getElementById('plot-mem') as unknown as { uplot: { data: number[][]; setScale(k: string, s: { min: number; max: number }): void } }).uplot;
      const t = u.data[0]!;
      const z = { min: t[0]!, max: (t[0]! + t[1]!) / 2 };
      u.setScale('x', z);
      return z;
    });
    const navigations = await page.evaluate(() => performance.getEntriesByType('navigation').length);

    await monitor(['n1']);
    const want = lastCpu('n1');
    await page.waitForFunction(() => (document.getElementById('plot-cpu') as unknown as { uplot?: { data: unknown[][] } }).uplot?.data[0]!.length === 3, undefined, { timeout: INTERVAL_MS * 6 });

    const after = (await plotState(page, 'plot-cpu'))!;
    expect(after.points).toBe(3);
    expect(after.lastT).toBe(want.t);
    expect(after.last).toBe(want.cpu);
    // Not zoomed: the time axis moved on to show the new point.
    expect(after.xMax).toBe(want.t);
    expect(after.zoomed).toBe('false');
    for (const id of ['plot-cpu', 'plot-mem', 'plot-load', 'plot-disk']) {
      const s = (await plotState(page, id))!;
      expect(s.points, id).toBe(3);
      expect(s.canvasMark, `${id} was drawn on a new canvas`).toBe('first');
    }
    // Zoomed: the new point is in the data, and the user's range is kept.
    const mem = (await plotState(page, 'plot-mem'))!;
    expect(mem.zoomed).toBe('true');
    expect({ min: mem.xMin, max: mem.xMax }).toEqual(zoom);
    expect(await page.locator('#trends h2').textContent()).toContain('3 rows');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: number }).__sameDocument)).toBe(1);
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(navigations);
    expect(page.url()).toBe(dash.url + '/node/n1');
  });

  it('a node without monitor rows gets its plots once rows arrive', async () => {
    await page.click('a[href="/"]');
    await page.waitForSelector('a[href="/node/n2"]');
    await page.click('a[href="/node/n2"]');
    await page.waitForSelector('#plot-cpu[data-points="0"]');
    expect(await page.locator('#plot-cpu').textContent()).toContain('no monitor rows in this range');
    expect(await page.locator('.plot canvas').count()).toBe(0);
    await monitor(['n2']);
    await page.waitForSelector('#plot-cpu canvas', { timeout: INTERVAL_MS * 6 });
    const s = (await plotState(page, 'plot-cpu'))!;
    expect(s.points).toBe(1);
    expect(s.lastT).toBe(lastCpu('n2').t);
    expect(await page.locator('#plot-cpu').textContent()).not.toContain('no monitor rows');
    expect(await page.locator('#trends h2').textContent()).toContain('1 rows');
  });

  it('each plot takes its column\'s width, and follows it when the window narrows', async () => {
    const wide = (await plotState(page, 'plot-cpu'))!;
    expect(wide.width).toBe(Math.max(200, Math.floor(wide.holderWidth)));
    expect(wide.canvasWidth).toBeLessThanOrEqual(wide.holderWidth + 1);
    await page.setViewportSize({ width: 1000, height: 900 });
    await page.waitForFunction((w) => {
      const el = document.getElementById('plot-cpu') as unknown as HTMLElement & { uplot: { width: number } };
      return el.clientWidth !== w && el.uplot.width === Math.max(200, Math.floor(el.clientWidth));
    }, wide.holderWidth, { timeout: 5000 });
    const narrow = (await plotState(page, 'plot-cpu'))!;
    expect(narrow.width).not.toBe(wide.width);
    expect(narrow.canvasWidth).toBeLessThanOrEqual(narrow.holderWidth + 1);
    await page.setViewportSize({ width: 1400, height: 900 });
  });
});
