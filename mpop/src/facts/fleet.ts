import type { Pool, VsshClient } from '@meshpop/vssh/client';
import { fanout, type FanoutOptions, type FanoutResult, type NodeOutcome, type Outcome } from '../fanout/run.js';
import type { ErrorInfo } from '../errors.js';
import { readGpus } from './nvidiasmi.js';
import { readPackages } from './packages.js';
import { readProcs, type PsQuery } from './ps.js';
import { readTemps } from './sensors.js';
import { readPorts } from './ss.js';
import { readUnits, type UnitQuery } from './systemctl.js';
import { TOOL_TIMEOUT_MS, type ToolOptions } from './tool.js';

/** FactsOptions shape a fact-gathering fan-out: the fan-out's own options (timeoutMs also bounds each tool on the node). */
export type FactsOptions = FanoutOptions;

/**
 * gatherFacts runs `read` on every node over the pool. A node past the per-node timeout (default
 * TOOL_TIMEOUT_MS) is `timedout` and its command cancelled; a timeout given explicitly is also sent to the
 * node, which then kills the tool itself.
 */
export function gatherFacts<T>(pool: Pool, nodes: string[], read: (client: VsshClient, opts: ToolOptions) => Promise<T>, opts: FactsOptions = {}): Promise<FanoutResult<T>> {
  return fanout(pool, nodes, ({ client, signal }) => read(client, { signal, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) }), { timeoutMs: TOOL_TIMEOUT_MS, ...opts });
}

/** fleetGpus queries nvidia-smi on every node. */
export const fleetGpus = (pool: Pool, nodes: string[], opts: FactsOptions = {}) => gatherFacts(pool, nodes, readGpus, opts);
/** fleetTemps reads lm-sensors (or /sys/class/thermal) on every node. */
export const fleetTemps = (pool: Pool, nodes: string[], opts: FactsOptions = {}) => gatherFacts(pool, nodes, readTemps, opts);
/** fleetPorts lists listening sockets on every node. */
export const fleetPorts = (pool: Pool, nodes: string[], opts: FactsOptions = {}) => gatherFacts(pool, nodes, readPorts, opts);
/** fleetPackages lists installed packages on every node. */
export const fleetPackages = (pool: Pool, nodes: string[], opts: FactsOptions = {}) => gatherFacts(pool, nodes, readPackages, opts);
/** fleetServices lists systemd units on every node. */
export const fleetServices = (pool: Pool, nodes: string[], query: UnitQuery = {}, opts: FactsOptions = {}) => gatherFacts(pool, nodes, (c, o) => readUnits(c, query, o), opts);
/** fleetProcs lists processes on every node (the query's grep, top and sort applied on each). */
export const fleetProcs = (pool: Pool, nodes: string[], query: PsQuery = {}, opts: FactsOptions = {}) => gatherFacts(pool, nodes, (c, o) => readProcs(c, query, o), opts);

/** NodeReport is one node's part of a report, JSON-safe: its outcome, value or error, and time taken. */
export interface NodeReport<T> {
  node: string;
  outcome: Outcome;
  value?: T;
  error?: ErrorInfo;
  durationMs: number;
}

/** FactsReport is a fan-out as commands print it with --json and MCP tools return it. */
export interface FactsReport<T> {
  target: string;
  nodes: NodeReport<T>[];
  counts: Record<Outcome, number>;
  durationMs: number;
}

/** report turns a fan-out into a FactsReport (milliseconds rounded, nothing that JSON cannot carry). */
export function report<T>(target: string, run: FanoutResult<T>): FactsReport<T> {
  const node = (r: NodeOutcome<T>): NodeReport<T> => ({ node: r.node, outcome: r.outcome, ...(r.value !== undefined ? { value: r.value } : {}), ...(r.error ? { error: r.error } : {}), durationMs: Math.round(r.durationMs) });
  return { target, nodes: run.results.map(node), counts: run.counts, durationMs: Math.round(run.durationMs) };
}
