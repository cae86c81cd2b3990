import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Pool } from '@meshpop/vssh/client';
import { errorInfo, type ErrorInfo } from '../errors.js';
import { loadInventory, type Inventory } from '../inventory/inventory.js';
import { listAlerts, type Alert } from '../monitor/alerts.js';
import { openMonitorDb } from '../monitor/db.js';
import { mpopPaths } from '../paths.js';
import { readHealRecords } from './heal.js';
import { buildView, DEFAULT_INTERVAL_MS, pollFleet, type FleetView, type Reading } from './view.js';

/** CollectorOptions say where the fleet is and how often to read it. */
export interface CollectorOptions {
  home: string;
  pool: Pool;
  /** between the starts of two polls (default DEFAULT_INTERVAL_MS) */
  intervalMs?: number;
  /** a reading older than this is stale (default: the interval plus a second of slack) */
  staleAfterMs?: number;
  /** per node per poll (default: the interval, at most 10 s) */
  timeoutMs?: number;
  /** an Ansible inventory read beside inventory.yaml */
  ansible?: string;
  /** the nodes to read (a target; default all) */
  target?: string;
  /**
   * the last good readings to start from, kept up to date by the polls: a caller that reads the fleet now and
   * then (an MCP tool) keeps them between its collectors, for network rates and last-seen times
   */
  readings?: Map<string, Reading>;
}

/**
 * Collector keeps the fleet view: it polls every node each interval (one fan-out: sysinfo, ping, hello,
 * network counters), keeps each node's last good reading, and reads the monitor's firing alerts and the heal
 * audit. It emits 'view' with a FleetView after each poll. view() is what the page's JSON endpoint,
 * /metrics and an MCP tool return.
 */
export class Collector extends EventEmitter<{ view: [FleetView] }> {
  readonly intervalMs: number;
  readonly staleAfterMs: number;
  readonly #timeoutMs: number;
  readonly #readings: Map<string, Reading>;
  readonly #errors = new Map<string, ErrorInfo>();
  #inventory: Inventory | undefined;
  #only: Set<string> | undefined;
  #alerts: Alert[] = [];
  #notes: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<FleetView> | undefined;
  #closed = new AbortController();

  constructor(readonly opts: CollectorOptions) {
    super();
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.staleAfterMs = opts.staleAfterMs ?? this.intervalMs + 1000;
    this.#timeoutMs = opts.timeoutMs ?? Math.min(10_000, this.intervalMs);
    this.#readings = opts.readings ?? new Map();
  }

  /** poll reads the fleet once now (a poll already running is shared) and returns the view after it. */
  poll(): Promise<FleetView> {
    this.#running ??= this.#poll().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #poll(): Promise<FleetView> {
    const notes: string[] = [];
    try {
      this.#inventory = await loadInventory({ home: this.opts.home, ...(this.opts.ansible ? { ansible: this.opts.ansible } : {}) });
    } catch (err) {
      if (!this.#inventory) throw err;
      notes.push(`the fleet could not be read (${errorInfo(err).message}); showing the nodes of the poll before`);
    }
    const inv = this.#inventory;
    const nodes = this.opts.target ? inv.resolve(this.opts.target) : inv.names;
    this.#only = this.opts.target ? new Set(nodes) : undefined;
    const results = await pollFleet(this.opts.pool, nodes, { timeoutMs: this.#timeoutMs, previous: this.#readings, signal: this.#closed.signal });
    for (const r of results) {
      if (r.reading) {
        this.#readings.set(r.node, r.reading);
        this.#errors.delete(r.node);
      } else this.#errors.set(r.node, r.error ?? { code: 'UNKNOWN', message: 'no answer' });
    }
    for (const name of [...this.#readings.keys()]) if (!inv.byName.has(name)) this.#readings.delete(name);
    this.#alerts = this.#readAlerts(notes);
    this.#notes = notes;
    const view = this.view();
    this.emit('view', view);
    return view;
  }

  #readAlerts(notes: string[]): Alert[] {
    const file = mpopPaths(this.opts.home).monitorDb;
    if (!existsSync(file)) return [];
    try {
      const db = openMonitorDb(file, { readonly: true });
      try {
        return listAlerts(db);
      } finally {
        db.close();
      }
    } catch (err) {
      notes.push(`alerts not read: ${errorInfo(err).message}`);
      return this.#alerts;
    }
  }

  /** view is the fleet as last polled, judged for staleness now (empty before the first poll). */
  view(now = Date.now()): FleetView {
    const inventory = this.#inventory;
    if (!inventory) return { generatedAt: new Date(now).toISOString(), intervalMs: this.intervalMs, staleAfterMs: this.staleAfterMs, nodes: [], groups: [], counts: { total: 0, online: 0, stale: 0, offline: 0 }, alerts: [], heal: [], notes: ['not read yet'] };
    return buildView({ inventory, readings: this.#readings, errors: this.#errors, ...(this.#only ? { only: this.#only } : {}) }, { intervalMs: this.intervalMs, staleAfterMs: this.staleAfterMs, alerts: this.#alerts, heal: readHealRecords(mpopPaths(this.opts.home).audit), notes: this.#notes, now });
  }

  /** inventory is the fleet as last read (undefined before the first poll). */
  get inventory(): Inventory | undefined {
    return this.#inventory;
  }

  /** start polls now and then every interval until close(). */
  start(): Promise<FleetView> {
    const first = this.poll();
    const tick = (): void => {
      if (this.#closed.signal.aborted) return;
      const started = Date.now();
      void this.poll().catch(() => undefined).finally(() => {
        if (!this.#closed.signal.aborted) this.#timer = setTimeout(tick, Math.max(0, started + this.intervalMs - Date.now()));
      });
    };
    void first.catch(() => undefined).finally(() => {
      if (!this.#closed.signal.aborted) this.#timer = setTimeout(tick, this.intervalMs);
    });
    return first;
  }

  /** close stops polling (a poll in progress is cancelled). */
  async close(): Promise<void> {
    this.#closed.abort();
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}

/** readFleetView polls the fleet once and returns its view: the one call an MCP tool or a script needs (`signal` cancels the poll). */
export async function readFleetView(opts: CollectorOptions, signal?: AbortSignal): Promise<FleetView> {
  const c = new Collector(opts);
  const cancel = (): void => void c.close();
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    return await c.poll();
  } finally {
    signal?.removeEventListener('abort', cancel);
    await c.close();
  }
}
