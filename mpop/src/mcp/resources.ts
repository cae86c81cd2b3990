/**
 * mpop-mcp's resources, independent of the SDK (sdk.ts registers them): the inventory, one node with a live
 * reading, the tail of the MCP audit log, and the releases of a deploy target. A read that names something
 * that is not there throws an MpopError (MPOP_NO_MATCH, MPOP_USAGE), which sdk.ts turns into a protocol error.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { Pool } from '@meshpop/vssh';
import { MpopError } from '../errors.js';
import { listReleases } from '../deploy/releases.js';
import { splitTargetPath } from '../deploy/layout.js';
import { fleetStatus } from '../facts/status.js';
import type { Inventory } from '../inventory/inventory.js';
import { mpopPaths } from '../paths.js';
import { readLastRun } from '../runs.js';
import { listServers } from '../servers.js';

/** ResourceContext is what a resource read gets: the fleet, the pool, and where the audit log is. */
export interface ResourceContext {
  home: string;
  pool: Pool;
  inventory(): Promise<Inventory>;
  auditFile: string;
  /** at most this many bytes of text per read */
  maxText: number;
}

/** ResourceEntry is one concrete resource as a listing shows it. */
export interface ResourceEntry {
  uri: string;
  name: string;
  title?: string;
  description?: string;
}

/** FixedResource is a resource at one URI. */
export interface FixedResource {
  kind: 'fixed';
  name: string;
  uri: string;
  title: string;
  description: string;
  mimeType: string;
  /** _meta of the read's content (an MCP App's ui settings) */
  meta?: Record<string, unknown>;
  read(ctx: ResourceContext): Promise<string>;
}

/** TemplateResource is a family of resources under a URI template (RFC 6570, simple {var} only). */
export interface TemplateResource {
  kind: 'template';
  name: string;
  template: string;
  title: string;
  description: string;
  mimeType: string;
  /** the concrete resources of the family, for resources/list */
  list(ctx: ResourceContext): Promise<ResourceEntry[]>;
  /** completions of each variable from what was typed so far */
  complete: Record<string, (value: string, ctx: ResourceContext) => Promise<string[]>>;
  /** vars are the template's variables, percent-decoded */
  read(vars: Record<string, string>, ctx: ResourceContext): Promise<string>;
}

/** ResourceDef is a resource or a family of them. */
export type ResourceDef = FixedResource | TemplateResource;

/** AUDIT_LINES is how many of the audit log's last lines mpop://audit gives. */
export const AUDIT_LINES = 100;
/** LIVE_TIMEOUT_MS bounds the live reading of mpop://nodes/{name}. */
const LIVE_TIMEOUT_MS = 5000;
/** MAX_COMPLETIONS is how many values a completion offers. */
const MAX_COMPLETIONS = 100;

/** nodeUri is the resource of one node. */
export const nodeUri = (name: string): string => `mpop://nodes/${encodeURIComponent(name)}`;

const json = (v: unknown): string => JSON.stringify(v, null, 2);

/** fleetRows is the inventory as the resources give it: every address, groups, roles, the Wire registry's view. */
async function fleetRows(ctx: ResourceContext) {
  const inv = await ctx.inventory();
  const rows = await listServers(inv);
  return rows.map((r) => {
    const n = inv.byName.get(r.name)!;
    return { name: r.name, id: n.id, source: r.source, addresses: n.addresses.map((a) => ({ address: `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`, via: a.via })), groups: r.groups, roles: r.roles, wire: r.wire };
  });
}

const nodes: FixedResource = {
  kind: 'fixed',
  name: 'nodes',
  uri: 'mpop://nodes',
  title: 'The fleet',
  description: 'Every node of the inventory (nodes.json and the Wire mesh): name, addresses, groups, roles, and the mesh\'s view where this machine is the coordinator. Local state only; mpop://nodes/{name} adds a live reading of one node.',
  mimeType: 'application/json',
  async read(ctx) {
    const inv = await ctx.inventory();
    return json({ nodes: await fleetRows(ctx), groups: inv.groups });
  },
};

const node: TemplateResource = {
  kind: 'template',
  name: 'node',
  template: 'mpop://nodes/{name}',
  title: 'One node',
  description: 'One node: its inventory entry, and a live reading taken now over vssh (load, CPU, memory, disks, uptime, round trip) when it answers within 5 s; when it does not, live says why.',
  mimeType: 'application/json',
  async list(ctx) {
    return (await ctx.inventory()).names.map((name) => ({ uri: nodeUri(name), name: `node ${name}`, title: name }));
  },
  complete: {
    name: async (value, ctx) => (await ctx.inventory()).names.filter((n) => n.startsWith(value)).slice(0, MAX_COMPLETIONS),
  },
  async read({ name }, ctx) {
    const row = (await fleetRows(ctx)).find((r) => r.name === name);
    if (!row) {
      const known = (await ctx.inventory()).names;
      throw new MpopError('MPOP_NO_MATCH', `no node named "${name}" in the inventory${known.length ? ` (nodes: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''})` : ' (the fleet is empty)'}; mpop://nodes lists them.`);
    }
    const run = await fleetStatus(ctx.pool, [row.name], { timeoutMs: LIVE_TIMEOUT_MS });
    const r = run.results[0]!;
    const live = r.outcome === 'ok' ? { reachable: true, at: new Date().toISOString(), status: r.value } : { reachable: false, at: new Date().toISOString(), outcome: r.outcome, error: r.error ?? { code: 'MPOP_UNREACHABLE', message: `${row.name} did not answer` } };
    return json({ ...row, live });
  },
};

/** tailLines reads the last `n` lines of a file (at most `maxBytes` of them), without reading all of it. */
function tailLines(file: string, n: number, maxBytes: number): string[] {
  const size = statSync(file).size;
  const want = Math.min(size, maxBytes);
  const buf = Buffer.alloc(want);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, want, size - want);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n').filter(Boolean);
  if (want < size) lines.shift(); // the first line may be cut
  return lines.slice(-n);
}

const audit: FixedResource = {
  kind: 'fixed',
  name: 'audit',
  uri: 'mpop://audit',
  title: 'MCP audit log (tail)',
  description: `The last ${AUDIT_LINES} calls recorded in $MESHPOP_HOME/mpop/mcp-audit.jsonl, one JSON object a line: time, client, tool, targets, arguments (secret-looking values redacted), decision, outcome, duration.`,
  mimeType: 'application/x-ndjson',
  async read(ctx) {
    if (!existsSync(ctx.auditFile)) return '';
    return tailLines(ctx.auditFile, AUDIT_LINES, ctx.maxText).map((l) => l + '\n').join('');
  },
};

/** knownDeployTargets are the TARGET:PATH values this server deployed or rolled back (from its audit log and the last run). */
function knownDeployTargets(ctx: ResourceContext): string[] {
  const out = new Set<string>();
  if (existsSync(ctx.auditFile)) {
    for (const line of tailLines(ctx.auditFile, 10_000, 4 * 1024 * 1024)) {
      try {
        const e = JSON.parse(line) as { tool?: string; targets?: string | null; outcome?: string };
        if ((e.tool === 'mpop_deploy' || e.tool === 'mpop_rollback') && e.targets && e.outcome !== 'refused' && e.targets.includes(':/')) out.add(e.targets);
      } catch {
        /* a line cut by a crash */
      }
    }
  }
  const last = readLastRun(mpopPaths(ctx.home).lastRun);
  if (last && (last.command === 'deploy' || last.command === 'rollback') && last.target.includes(':/')) out.add(last.target);
  return [...out].sort();
}

const releases: TemplateResource = {
  kind: 'template',
  name: 'releases',
  template: 'mpop://releases/{target}',
  title: 'Releases of a deploy target',
  description: 'The releases of a deploy target on each of its nodes, newest first, as mpop_releases gives them: target is TARGET:PATH percent-encoded, e.g. mpop://releases/%40web%3A%2Fvar%2Fwww%2Fsite for @web:/var/www/site. Listed: the targets this server deployed.',
  mimeType: 'application/json',
  async list(ctx) {
    return knownDeployTargets(ctx).map((t) => ({ uri: `mpop://releases/${encodeURIComponent(t)}`, name: `releases ${t}`, title: t }));
  },
  complete: {
    target: async (value, ctx) => {
      const inv = await ctx.inventory();
      const bases = [...knownDeployTargets(ctx), ...inv.names.map((n) => `${n}:/`), ...inv.groups.map((g) => `@${g.name}:/`)];
      return [...new Set(bases)].filter((t) => t.startsWith(value)).slice(0, MAX_COMPLETIONS);
    },
  },
  async read({ target: text }, ctx) {
    const { target, path } = splitTargetPath(text ?? '');
    const nodes = (await ctx.inventory()).resolve(target);
    const run = await listReleases(ctx.pool, nodes, path, { timeoutMs: 15_000 });
    return json({
      target,
      path,
      nodes: run.results.map((r) => ({ node: r.node, outcome: r.outcome, ...(r.value ? { value: r.value } : {}), ...(r.error ? { error: r.error } : {}), durationMs: Math.round(r.durationMs) })),
      counts: run.counts,
    });
  },
};

/** DASHBOARD_APP_URI is the MCP App that mpop_dashboard's results are shown in. */
export const DASHBOARD_APP_URI = 'ui://mpop/dashboard.html';
/** MCP_APP_MIME_TYPE is the MIME type of an MCP App's HTML (the ext-apps extension, SEP-1865). */
export const MCP_APP_MIME_TYPE = 'text/html;profile=mcp-app';

const dashboardApp: FixedResource = {
  kind: 'fixed',
  name: 'dashboard',
  uri: DASHBOARD_APP_URI,
  title: 'Fleet dashboard (MCP App)',
  description: 'The HTML of the fleet dashboard that hosts rendering MCP Apps show mpop_dashboard\'s results in: the fleet table (sortable, filtered), alerts and history plots, with buttons that call read-only tools. One self-contained document: no network access of its own.',
  mimeType: MCP_APP_MIME_TYPE,
  meta: { ui: { prefersBorder: true, csp: { connectDomains: [], resourceDomains: [] } } },
  async read() {
    const { dashboardAppHtml } = await import('../dashboard/mcp-app.js');
    return dashboardAppHtml();
  },
};

/** RESOURCES are every resource mpop-mcp serves. */
export const RESOURCES: ResourceDef[] = [nodes, node, audit, releases, dashboardApp];
