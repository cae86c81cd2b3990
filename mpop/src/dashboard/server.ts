import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import type { Pool } from '@meshpop/vssh/client';
import { errorInfo, isMpopError } from '../errors.js';
import { CHECKS } from '../heal/checks/index.js';
import { FleetMetrics } from '../metrics/fleet.js';
import { mpopPaths } from '../paths.js';
import { Access, COOKIE, same, SESSION_MS } from './access.js';
import { Actions, parseAction } from './actions.js';
import { loadAssets } from './assets.js';
import { dashboardAuditFile } from './audit.js';
import type { Collector } from './collector.js';
import { readHistory } from './history.js';
import { meshGraph, type MeshGraph } from './mesh.js';
import { nodeDetail } from './node.js';

/** DashboardOptions say what the server shows and who may see it. */
export interface DashboardOptions {
  home: string;
  pool: Pool;
  collector: Collector;
  /** the key from the vault that signs session cookies */
  key: string;
  /** the bearer token a scraper may send to /metrics instead of a session cookie */
  metricsToken?: string;
  bind: string;
  port: number;
  /** the restart and heal buttons (each confirmed, each audited) */
  allowActions?: boolean;
}

/** Dashboard is a running dashboard server. */
export interface Dashboard {
  url: string;
  port: number;
  access: Access;
  /** loginUrl makes a new one-time login link */
  loginUrl(): string;
  close(): Promise<void>;
}

/** MESH_TTL_MS is how long a mesh graph is reused before the nodes are asked again. */
const MESH_TTL_MS = 30_000;

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/**
 * dashboardApp builds the HTTP app: the login exchange, the page's shells and assets, its JSON endpoints
 * (the fleet view, a node, its history, the mesh, server-sent events), /metrics, and the actions when allowed.
 * Every request must name this server in Host (DNS rebinding); every POST must come from its own Origin;
 * everything but the login page needs the session cookie; no GET changes anything.
 */
export function dashboardApp(o: DashboardOptions, access: Access): Hono<{ Variables: { sid: string } }> {
  const assets = loadAssets();
  const metrics = new FleetMetrics();
  const actions = new Actions(o.pool, o.home, dashboardAuditFile(o.home));
  let mesh: { at: number; graph: Promise<MeshGraph> } | undefined;
  const meshNow = (): Promise<MeshGraph> => {
    if (!mesh || Date.now() - mesh.at > MESH_TTL_MS) {
      // Before the collector's first poll the fleet is not known: wait for that poll, or an empty graph is kept for MESH_TTL_MS.
      const polled = o.collector.inventory ? Promise.resolve() : o.collector.poll().then(() => undefined, () => undefined);
      const graph = polled.then(() => {
        const nodes = o.collector.view().nodes.filter((n) => n.online).map((n) => n.name);
        const all = o.collector.view().nodes.map((n) => n.name);
        return meshGraph(o.pool, nodes).then((g) => ({ ...g, nodes: [...g.nodes, ...all.filter((n) => !nodes.includes(n)).map((name) => ({ name, inMesh: false, note: 'did not answer the last poll' }))] }));
      });
      mesh = { at: Date.now(), graph };
      graph.catch(() => (mesh = undefined));
    }
    return mesh.graph;
  };

  const app = new Hono<{ Variables: { sid: string } }>();
  app.onError((err, c) => {
    const e = errorInfo(err);
    const status = isMpopError(err, 'MPOP_USAGE') ? 400 : isMpopError(err, 'MPOP_NO_MATCH') ? 404 : 500;
    return c.json({ error: { code: e.code, message: e.message } }, status);
  });
  app.use('*', async (c, next) => {
    // Set first, so the refusals below (421, 403, 415) carry them too; set again after, over what a handler set.
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
    const host = (c.req.header('host') ?? '').toLowerCase();
    if (!access.hosts.has(host)) return c.text(`Host "${host.slice(0, 100)}" is not this server`, 421);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const origin = c.req.header('origin');
      if (!origin || !access.origins.has(origin.toLowerCase())) return c.json({ error: { code: 'FORBIDDEN', message: `a ${c.req.method} must come from this dashboard's own page (Origin ${origin ? `"${origin.slice(0, 100)}" is not allowed` : 'missing'})` } }, 403);
      if (!(c.req.header('content-type') ?? '').startsWith('application/json')) return c.json({ error: { code: 'BAD_REQUEST', message: 'send JSON (Content-Type: application/json)' } }, 415);
    }
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
  });

  app.get('/login', (c) => c.html(assets.login));
  app.get('/assets/login.js', (c) => serveAsset(c, assets.files));
  app.get('/assets/style.css', (c) => serveAsset(c, assets.files));
  app.post('/login', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { token?: unknown };
    if (typeof body.token !== 'string' || !access.redeem(body.token)) return c.json({ error: { code: 'UNAUTHORIZED', message: 'this login link was already used, has expired, or is not this server\'s: run mpop dashboard again for a new one' } }, 401);
    setCookie(c, COOKIE, access.session(), { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: SESSION_MS / 1000 });
    return c.body(null, 204);
  });

  app.use('*', async (c, next) => {
    const sid = access.check(getCookie(c, COOKIE));
    if (sid) {
      c.set('sid', sid);
      return next();
    }
    if (c.req.path === '/metrics' && o.metricsToken) {
      const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
      if (m && same(m[1]!, o.metricsToken)) return next();
    }
    if (c.req.path.startsWith('/api/') || c.req.path === '/metrics') return c.json({ error: { code: 'UNAUTHORIZED', message: 'log in first: open the link mpop dashboard printed' } }, 401);
    return c.html(assets.login, 401);
  });

  app.post('/logout', (c) => {
    deleteCookie(c, COOKIE, { path: '/' });
    return c.body(null, 204);
  });
  for (const path of ['/', '/node/:name', '/mesh', '/alerts']) app.get(path, (c) => c.html(assets.index));
  app.get('/assets/:file', (c) => serveAsset(c, assets.files));
  app.get('/vendor/:file', (c) => serveAsset(c, assets.files));

  app.get('/api/session', (c) => c.json({ csrf: access.csrf(c.get('sid')), allowActions: o.allowActions === true, checks: CHECKS.map((k) => k.name), intervalMs: o.collector.intervalMs, staleAfterMs: o.collector.staleAfterMs }));
  app.get('/api/fleet', (c) => c.json(o.collector.view()));
  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let id = 0;
      const send = (v: unknown): void => void stream.writeSSE({ event: 'view', data: JSON.stringify(v), id: String(++id) }).catch(() => undefined);
      o.collector.on('view', send);
      send(o.collector.view());
      const beat = setInterval(() => void stream.writeSSE({ event: 'ping', data: '' }).catch(() => undefined), 15_000);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      clearInterval(beat);
      o.collector.off('view', send);
    }),
  );
  app.get('/api/nodes/:name', async (c) => {
    const name = c.req.param('name');
    const row = o.collector.view().nodes.find((n) => n.name === name);
    const inv = o.collector.inventory;
    if (!row || !inv) return c.json({ error: { code: 'NOT_FOUND', message: `no node "${name.slice(0, 100)}" in the fleet` } }, 404);
    return c.json(await nodeDetail(o.pool, o.home, inv, row, c.req.raw.signal));
  });
  app.get('/api/nodes/:name/history', (c) => {
    const name = c.req.param('name');
    if (!o.collector.view().nodes.some((n) => n.name === name)) return c.json({ error: { code: 'NOT_FOUND', message: `no node "${name.slice(0, 100)}" in the fleet` } }, 404);
    const hours = Number(c.req.query('hours') ?? 6);
    if (!(hours > 0 && hours <= 24 * 90)) return c.json({ error: { code: 'BAD_REQUEST', message: 'hours must be above 0 and at most 2160' } }, 400);
    return c.json(readHistory(mpopPaths(o.home).monitorDb, name, hours));
  });
  app.get('/api/mesh', async (c) => c.json(await meshNow()));
  app.get('/metrics', async (c) => {
    const graph = mesh ? await mesh.graph.catch(() => undefined) : undefined;
    metrics.update(o.collector.view(), graph);
    return c.body(await metrics.text(), 200, { 'Content-Type': metrics.contentType });
  });

  app.post('/api/actions', async (c) => {
    if (!o.allowActions) return c.json({ error: { code: 'READ_ONLY', message: 'this dashboard is read-only: start it with mpop dashboard --allow-actions to restart services or run heal fixes' } }, 403);
    if (!same(c.req.header('x-mpop-csrf') ?? '', access.csrf(c.get('sid')))) return c.json({ error: { code: 'FORBIDDEN', message: 'the CSRF token is missing or wrong: reload the page' } }, 403);
    const req = parseAction(await c.req.json().catch(() => null), new Set(o.collector.view().nodes.map((n) => n.name)));
    const p = actions.ask(req);
    return c.json({ id: p.id, summary: p.summary, expires: new Date(p.expires).toISOString() });
  });
  app.post('/api/actions/:id/confirm', async (c) => {
    if (!o.allowActions) return c.json({ error: { code: 'READ_ONLY', message: 'this dashboard is read-only' } }, 403);
    if (!same(c.req.header('x-mpop-csrf') ?? '', access.csrf(c.get('sid')))) return c.json({ error: { code: 'FORBIDDEN', message: 'the CSRF token is missing or wrong: reload the page' } }, 403);
    return c.json(await actions.confirm(c.req.param('id'), c.get('sid')));
  });
  return app;
}

function serveAsset(c: Context, files: Map<string, { body: Buffer; type: string }>): Response {
  const f = files.get(c.req.path);
  if (!f) return c.text('not found', 404);
  return c.body(new Uint8Array(f.body), 200, { 'Content-Type': f.type });
}

/** listen starts a Hono app on bind:port (port 0: any free one) and resolves once it listens. */
export function listen(fetch: (req: Request) => Response | Promise<Response>, bind: string, port: number): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: bind, port }, (info: AddressInfo) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
}

/** closeServer stops a server, ending open event streams. */
export function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** startDashboard starts the collector and the server; url is its address, loginUrl() a one-time login link. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  // The port is known only once listening (0 = any): build the access rules for the port the server got.
  let access = new Access(o.key, o.bind, o.port);
  let app = dashboardApp(o, access);
  const { server, port } = await listen((req) => app.fetch(req), o.bind, o.port);
  if (port !== o.port) {
    access = new Access(o.key, o.bind, port);
    app = dashboardApp(o, access);
  }
  o.collector.start().catch(() => undefined);
  const host = o.bind.includes(':') ? `[${o.bind}]` : o.bind === '0.0.0.0' ? '127.0.0.1' : o.bind;
  const url = `http://${host}:${port}`;
  return {
    url,
    port,
    access,
    loginUrl: () => `${url}/login#t=${access.loginToken()}`,
    async close() {
      await o.collector.close();
      await closeServer(server);
    },
  };
}
