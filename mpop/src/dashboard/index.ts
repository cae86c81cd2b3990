/**
 * @meshpop/mpop/dashboard: the fleet view as typed data (Collector, readFleetView), a node's page, its
 * history and the mesh graph, the dashboard's HTTP server, and the Prometheus metrics of the fleet.
 */
export { Collector, readFleetView, type CollectorOptions } from './collector.js';
export { buildView, pollFleet, readingOf, DEFAULT_INTERVAL_MS, type FleetView, type NodeRow, type Reading, type HealRecord, type PollResult } from './view.js';
export { nodeDetail, type NodeDetail, type Part } from './node.js';
export { readHistory, readHistories, downsample, type History } from './history.js';
export { meshGraph, type MeshGraph, type MeshEdge } from './mesh.js';
export { startDashboard, dashboardApp, type Dashboard, type DashboardOptions } from './server.js';
export { Access, KEY_SECRET, METRICS_TOKEN_SECRET, COOKIE } from './access.js';
export { dashboardKeys } from './keys.js';
export { FleetMetrics, METRIC_NAMES } from '../metrics/fleet.js';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from '../metrics/server.js';
