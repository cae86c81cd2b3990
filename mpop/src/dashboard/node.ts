import { existsSync } from 'node:fs';
import { findSecret } from '@meshpop/meshdb';
import type { Pool, VsshClient } from '@meshpop/vssh/client';
import { listReleases, type NodeReleases } from '../deploy/releases.js';
import { errorInfo, MpopError, type ErrorInfo } from '../errors.js';
import { readPorts, type ListenSocket } from '../facts/ss.js';
import { readUnits, type Unit } from '../facts/systemctl.js';
import type { Inventory } from '../inventory/inventory.js';
import { readOnce } from '../logs/fetch.js';
import { planLogs, type LogQuery } from '../logs/plan.js';
import { probeNode } from '../logs/probe.js';
import { entryText } from '../logs/render.js';
import { filesToProbe } from '../logs/plan.js';
import { listAlerts, type Alert } from '../monitor/alerts.js';
import { openMonitorDb } from '../monitor/db.js';
import { mpopPaths } from '../paths.js';
import { readLastRun } from '../runs.js';
import type { NodeRow } from './view.js';

/** Part is one section of a node page: its value, or why it could not be read. */
export type Part<T> = { ok: true; value: T } | { ok: false; reason: string; error?: ErrorInfo };

/** NodeDetail is a node's page: its row of the fleet view, and what is read from it on demand. */
export interface NodeDetail {
  row: NodeRow;
  services: Part<Unit[]>;
  ports: Part<ListenSocket[]>;
  releases: Part<{ path: string; releases: NodeReleases }[]>;
  alerts: Alert[];
  logs: Part<string[]>;
}

/** LOG_LINES is how many of the system log's last lines a node page shows. */
export const LOG_LINES = 40;

const part = async <T>(p: Promise<T | { present: false; reason: string }>): Promise<Part<T>> => {
  try {
    const v = await p;
    if (v && typeof v === 'object' && (v as { present?: unknown }).present === false) return { ok: false, reason: (v as { reason: string }).reason };
    return { ok: true, value: v as T };
  } catch (err) {
    const e = errorInfo(err);
    return { ok: false, reason: e.message, error: e };
  }
};

/** nodeDetail reads a node's page: services, listening ports, releases of the paths mpop deployed, its alerts and the last lines of its system log. */
export async function nodeDetail(pool: Pool, home: string, inv: Inventory, row: NodeRow, signal: AbortSignal): Promise<NodeDetail> {
  if (!inv.byName.has(row.name)) throw new MpopError('MPOP_NO_MATCH', `no node "${row.name}" in the fleet`);
  const alerts = nodeAlerts(home, row.name);
  if (!row.online) {
    const down = { ok: false as const, reason: `${row.name} did not answer the last poll${row.error ? ` (${row.error.message})` : ''}` };
    return { row, services: down, ports: down, releases: down, alerts, logs: down };
  }
  const client = await pool.client(row.name);
  const [services, ports, releases, logs] = await Promise.all([
    part(readUnits(client, {}, { signal, timeoutMs: 10_000 }).then((v) => ('present' in v && v.present === false ? v : (v as { units: Unit[] }).units))),
    part(readPorts(client, { signal, timeoutMs: 10_000 }).then((v) => ('present' in v && v.present === false ? v : (v as { sockets: ListenSocket[] }).sockets))),
    part(nodeReleases(pool, home, row.name)),
    part(lastLogLines(client, row.name, signal)),
  ]);
  return { row, services, ports, releases, alerts, logs };
}

function nodeAlerts(home: string, node: string): Alert[] {
  const file = mpopPaths(home).monitorDb;
  if (!existsSync(file)) return [];
  const db = openMonitorDb(file, { readonly: true });
  try {
    return listAlerts(db, { all: true, node }).slice(0, 20);
  } finally {
    db.close();
  }
}

/** deployedPaths are the paths the last deploy or rollback named (from last-run.json), the ones a release list makes sense for. */
function deployedPaths(home: string, node: string): string[] {
  const last = readLastRun(mpopPaths(home).lastRun);
  if (!last || !['deploy', 'rollback'].includes(last.command)) return [];
  const i = last.target.indexOf(':/');
  if (i < 0 || ![...last.ok, ...last.failed].includes(node)) return [];
  return [last.target.slice(i + 1)];
}

async function nodeReleases(pool: Pool, home: string, node: string): Promise<{ path: string; releases: NodeReleases }[]> {
  const out: { path: string; releases: NodeReleases }[] = [];
  for (const path of deployedPaths(home, node)) {
    const run = await listReleases(pool, [node], path, { timeoutMs: 10_000 });
    const r = run.results[0];
    if (r?.value) out.push({ path, releases: r.value });
  }
  return out;
}

async function lastLogLines(client: VsshClient, node: string, signal: AbortSignal): Promise<string[]> {
  const source = { kind: 'system' as const, spec: 'system' };
  const q: LogQuery = { lines: LOG_LINES };
  const facts = await probeNode(client, filesToProbe(source), signal);
  const plan = planLogs(node, source, q, facts);
  const reader = plan.readers[0];
  if (!reader) return [];
  const { entries } = await readOnce(node, client, reader, q, facts, signal);
  return hideSecretLines(entries.slice(-LOG_LINES).map((e) => entryText(e)));
}

/** hideSecretLines replaces each line that holds a secret shape (meshdb's detector) with a note naming only its kind: no secret on a page. */
export function hideSecretLines(lines: string[]): string[] {
  return lines.map((l) => {
    const kind = findSecret(l);
    return kind ? `(line hidden: it looks like it holds a ${kind})` : l;
  });
}
