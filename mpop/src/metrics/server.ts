import { Hono } from 'hono';
import type { Pool } from '@meshpop/vssh/client';
import { Collector } from '../dashboard/collector.js';
import { meshGraph, type MeshGraph } from '../dashboard/mesh.js';
import { closeServer, listen } from '../dashboard/server.js';
import { same } from '../dashboard/access.js';
import { FleetMetrics } from './fleet.js';

/** MetricsServerOptions say what to expose and to whom. */
export interface MetricsServerOptions {
  home: string;
  pool: Pool;
  bind: string;
  port: number;
  intervalMs?: number;
  /** required as `Authorization: Bearer` when set (mpop metrics sets it when not bound to loopback) */
  token?: string;
  /** ask the nodes for their mesh view (handshake ages) every this long; 0: never (default 60 s) */
  meshEveryMs?: number;
}

/** MetricsServer is a running `mpop metrics`. */
export interface MetricsServer {
  url: string;
  port: number;
  collector: Collector;
  close(): Promise<void>;
}

/**
 * startMetricsServer polls the fleet in the background (the dashboard's collector) and serves its last view at
 * GET /metrics in the Prometheus text format, so a scrape answers at once however large the fleet.
 */
export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const collector = new Collector({ home: o.home, pool: o.pool, ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}) });
  const metrics = new FleetMetrics();
  let mesh: MeshGraph | undefined;
  let meshAt = 0;
  const meshEvery = o.meshEveryMs ?? 60_000;
  collector.on('view', (v) => {
    if (!meshEvery || Date.now() - meshAt < meshEvery) return;
    meshAt = Date.now();
    meshGraph(o.pool, v.nodes.filter((n) => n.online).map((n) => n.name)).then((g) => (mesh = g), () => undefined);
  });
  const app = new Hono();
  app.get('/metrics', async (c) => {
    if (o.token) {
      const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
      if (!m || !same(m[1]!, o.token)) return c.text('a bearer token is required (the vault\'s mpop/metrics-token)\n', 401);
    }
    metrics.update(collector.view(), mesh);
    return c.body(await metrics.text(), 200, { 'Content-Type': metrics.contentType });
  });
  app.get('/', (c) => c.text('mpop metrics: see /metrics\n'));
  const { server, port } = await listen((req) => app.fetch(req), o.bind, o.port);
  await collector.start().catch(() => undefined);
  return {
    url: `http://${o.bind.includes(':') ? `[${o.bind}]` : o.bind}:${port}/metrics`,
    port,
    collector,
    async close() {
      await collector.close();
      await closeServer(server);
    },
  };
}
