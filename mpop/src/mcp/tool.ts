import type { z } from 'zod';
import type { Pool } from '@meshpop/vssh';
import type { Inventory } from '../inventory/inventory.js';

/** TOOLSETS are the groups an agent can enable with --toolsets; `core` is on by default. */
export const TOOLSETS = {
  core: 'the fleet at a glance and the everyday reads: servers, status, exec, jobs, groups, toolsets',
  exec: 'running commands and scripts across nodes, and the jobs they leave',
  files: 'reading, writing, listing and copying files on nodes (vssh)',
  deploy: 'releases: deploy, rollback, list',
  logs: 'journald, files, kernel and container logs, and searching them across nodes',
  heal: 'health checks and their fixes',
  monitoring: 'hardware, GPUs, temperatures, trends and alerts from the monitor',
  network: 'the WireGuard mesh (status, peers, ping, diagnose, tokens) and the vssh transport (status, speed tests, tunnels, keys)',
  search: 'meshdb: full-text and semantic search over every file of every node',
  secrets: 'the vault: status, names, and values the server is allowed to give',
  security: 'users, failed logins, firewall, pending updates',
  containers: 'docker / podman containers',
  inventory: 'groups, roles and enrolling machines',
} as const;

/** Toolset is one group of tools. */
export type Toolset = keyof typeof TOOLSETS;

/** Annotations say truthfully what a tool does, for clients that act on them. */
export interface Annotations {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  /** the tool reaches beyond this machine (the nodes) */
  openWorld: boolean;
}

/** Progress is what a long tool reports while it runs. */
export interface ToolProgress {
  done: number;
  total?: number;
  message?: string;
}

/** ToolContext is what a tool gets: the fleet, the pool, a signal that fires on cancel, and a progress callback. */
export interface ToolContext {
  home: string;
  pool: Pool;
  inventory(): Promise<Inventory>;
  signal: AbortSignal;
  progress(p: ToolProgress): void;
  /** the client that called (from initialize), for the audit */
  client: string;
}

/** ToolResult is a tool's answer: typed data (structuredContent) and a short text rendering of it. */
export interface ToolResult<T> {
  data: T;
  text: string;
  /** an expected failure (a node down, nothing matched): still data, but flagged for the agent */
  isError?: boolean;
}

/**
 * ToolDef is one MCP tool as mpop defines it, independent of the SDK: zod shapes for input and output, honest
 * annotations, and a run function over the same library the CLI calls. `targets` names what a call acts on
 * (for the audit and confirmations); `long` tools may outlast a client's timeout and become jobs.
 */
export interface ToolDef<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  input: I;
  output: O;
  annotations: Annotations;
  long?: boolean;
  /** the ui:// resource (an MCP App) that hosts which render apps show the result in */
  ui?: string;
  targets?(args: z.infer<z.ZodObject<I>>): string | undefined;
  /** what a confirmation asks, for destructive tools */
  confirm?(args: z.infer<z.ZodObject<I>>): string;
  run(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<ToolResult<z.infer<z.ZodObject<O>>>>;
}

/** defineTool returns its argument, typed (so a tool's run sees its own input and output types). */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDef<I, O>): ToolDef<I, O> {
  return def;
}

/** READ is the annotations of a tool that only reads the fleet. */
export const READ: Annotations = { readOnly: true, destructive: false, idempotent: true, openWorld: true };
/** LOCAL_READ is a read of this machine's own state. */
export const LOCAL_READ: Annotations = { readOnly: true, destructive: false, idempotent: true, openWorld: false };
