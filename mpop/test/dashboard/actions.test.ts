import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopFleet, type Fleet } from '../fleet.js';
import { Collector } from '../../src/dashboard/collector.js';
import { dashboardKeys } from '../../src/dashboard/keys.js';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';

/** post sends a JSON POST from inside the page (its cookie, its Origin), with or without the session's CSRF token. */
const post = (page: Page, path: string, body: unknown, csrf: 'session' | 'none' | 'wrong' = 'session') =>
  page.evaluate(async ({ path, body, csrf }) => {
    const s = await (await fetch('/api/session')).json();
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (csrf !== 'none') headers['X-Mpop-Csrf'] = csrf === 'session' ? s.csrf : 'x'.repeat(43);
    const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  }, { path, body, csrf });

describe('mpop dashboard --allow-actions: confirmed, audited, CSRF-safe', () => {
  let fleet: Fleet;
  let dash: Dashboard;
  let browser: Browser;
  let page: Page;
  let audit: string;

  beforeAll(async () => {
    fleet = await loopFleet(2);
    const keys = await dashboardKeys(fleet.home, { ...process.env, ...fleet.env });
    const collector = new Collector({ home: fleet.home, pool: fleet.pool, intervalMs: 2000 });
    dash = await startDashboard({ home: fleet.home, pool: fleet.pool, collector, key: keys.key, bind: '127.0.0.1', port: 0, allowActions: true });
    audit = join(fleet.home, 'mpop', 'dashboard-audit.jsonl');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    page = await (await browser.newContext()).newPage();
    await page.goto(dash.loginUrl());
    await page.waitForSelector('#fleet tbody tr[data-state="online"]');
  });
  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await fleet?.close();
  });

  it('asking does nothing; the confirmation runs it once and writes the audit line', async () => {
    const asked = await post(page, '/api/actions', { kind: 'restart', node: 'n1', unit: 'mpop-dashboard-test-absent.service' });
    expect(asked.status).toBe(200);
    expect(asked.body.summary).toBe('restart mpop-dashboard-test-absent.service on n1');
    expect(existsSync(audit)).toBe(false);
    const done = await post(page, `/api/actions/${asked.body.id}/confirm`, {});
    expect(done.status).toBe(200);
    // no such unit (or no systemd here): the action ran and failed, and says why
    expect(done.body).toMatchObject({ ok: false, summary: 'restart mpop-dashboard-test-absent.service on n1' });
    expect(done.body.detail).toMatch(/systemctl exited|failed/);
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ via: 'dashboard', action: { kind: 'restart', node: 'n1', unit: 'mpop-dashboard-test-absent.service' }, ok: false });
    const twice = await post(page, `/api/actions/${asked.body.id}/confirm`, {});
    expect(twice.status).toBe(400);
    expect(twice.body.error.message).toMatch(/no such action waiting for confirmation/);
    expect(readFileSync(audit, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('a heal check runs through the same two steps', async () => {
    const asked = await post(page, '/api/actions', { kind: 'heal', node: 'n2', check: 'vssh' });
    expect(asked.status).toBe(200);
    const done = await post(page, `/api/actions/${asked.body.id}/confirm`, {});
    expect(done.body).toMatchObject({ ok: true });
    expect(done.body.detail).toMatch(/^ok: /);
  });

  it('refuses a missing or wrong CSRF token, a foreign Origin, a GET, and bad input, each saying what was wrong', async () => {
    for (const csrf of ['none', 'wrong'] as const) {
      const r = await post(page, '/api/actions', { kind: 'restart', node: 'n1', unit: 'x.service' }, csrf);
      expect(r.status, csrf).toBe(403);
      expect(r.body.error.message).toMatch(/CSRF token is missing or wrong/);
    }
    const cookie = (await page.context().cookies()).find((c) => c.name === 'mpop_session')!;
    const foreign = await fetch(dash.url + '/api/actions', { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example', cookie: `mpop_session=${cookie.value}` }, body: '{}' });
    expect(foreign.status).toBe(403);
    const form = await fetch(dash.url + '/api/actions', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: dash.url, cookie: `mpop_session=${cookie.value}` }, body: 'kind=restart' });
    expect(form.status).toBe(415);
    const get = await page.evaluate(async () => (await fetch('/api/actions')).status);
    expect(get).toBe(404);
    const cases: [unknown, RegExp][] = [
      [{ kind: 'restart', node: 'nope', unit: 'a.service' }, /"node" must name a node of the fleet/],
      [{ kind: 'restart', node: 'n1', unit: '--force' }, /"unit" must be a systemd unit name/],
      [{ kind: 'restart', node: 'n1', unit: 'a b; reboot' }, /"unit" must be a systemd unit name/],
      [{ kind: 'heal', node: 'n1', check: 'dsik' }, /there is no check "dsik"/],
      [{ kind: 'reboot', node: 'n1' }, /"kind" must be restart or heal/],
    ];
    for (const [body, msg] of cases) {
      const r = await post(page, '/api/actions', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message).toMatch(msg);
    }
    expect(readFileSync(audit, 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
