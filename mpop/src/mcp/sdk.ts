/**
 * The one module that touches the MCP SDK (1.x): it registers mpop's ToolDefs on an McpServer and connects
 * transports. Tools, the guard, jobs and the audit know nothing of the SDK, so a move to the v2 packages
 * (@modelcontextprotocol/server) changes this file only.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import type { CreateTaskOptions, TaskStore, ToolTaskHandler } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { isTaskAugmentedRequestParams, McpError, type CallToolResult, type Request, type RequestId, type Result, type ServerNotification, type ServerRequest, type Task } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { checkAccess, type AccessPolicy } from './http-access.js';
import { z } from 'zod';
import { errorInfo } from '../errors.js';
import { VERSION } from '../version.js';
import type { Answer, CallInfo, Guard } from './guard.js';
import { MAX_JOBS, newJobId, type Jobs } from './jobs.js';
import { renderPrompt, type PromptDef } from './prompts.js';
import { nodeUri, type ResourceContext, type ResourceDef } from './resources.js';
import type { ToolDef } from './tool.js';

/** PROGRESS_EVERY_MS: progress notifications are sent at most this often per call (and always for the last). */
const PROGRESS_EVERY_MS = 200;

/** TASK_POLL_MS is how often a client is asked to poll a task (tasks/get). */
const TASK_POLL_MS = 1000;

/** MAX_LINKS is how many resource links to mpop://nodes/{name} a tool result carries at most. */
const MAX_LINKS = 20;

/** ServerExtras are what a server offers besides its tools; `catalogue` is every tool, offered or not (for the prompts' notes). */
export interface ServerExtras {
  resources?: ResourceDef[];
  prompts?: PromptDef[];
  catalogue?: ToolDef[];
}

/**
 * createMcpServer makes an McpServer offering `tools` (those the guard lists) with their schemas and
 * annotations, and the resources and prompts of `extras`. Long tools also run as MCP tasks (taskSupport
 * "optional"): a task-augmented tools/call starts a job and answers its id as the task's; a plain call is
 * answered as before (progress, the deadline's job hand-off, cancellation with the request).
 */
export function createMcpServer(tools: ToolDef[], guard: Guard, instructions: string, extras: ServerExtras = {}): McpServer {
  const tasks = new JobTasks(guard.jobs);
  const server = new McpServer(
    { name: 'mpop-mcp', version: VERSION },
    { capabilities: { logging: {}, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } }, instructions, taskStore: tasks, defaultTaskPollInterval: TASK_POLL_MS },
  );
  registerResources(server, guard, extras.resources ?? []);
  registerPrompts(server, guard, extras.prompts ?? [], tools, extras.catalogue ?? tools);
  const toResult = (answer: Answer): CallToolResult => ({
    content: [{ type: 'text' as const, text: answer.text }, ...(extras.resources?.length ? nodeLinks(answer.structured) : [])],
    ...(answer.structured ? { structuredContent: answer.structured } : {}),
    ...(answer.isError ? { isError: true } : {}),
  });
  const callInfo = (extra: RequestHandlerExtra<ServerRequest, ServerNotification>): CallInfo => {
    const token = extra._meta?.progressToken;
    let last = 0;
    const caps = server.server.getClientCapabilities();
    return {
      signal: extra.signal,
      client: server.server.getClientVersion()?.name ?? 'unknown',
      progress: (p) => {
        if (token === undefined) return;
        const now = performance.now();
        if (now - last < PROGRESS_EVERY_MS && p.done !== p.total) return;
        last = now;
        void extra
          .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: p.done, ...(p.total !== undefined ? { total: p.total } : {}), ...(p.message ? { message: p.message } : {}) } })
          .catch(() => undefined);
      },
      ...(caps?.elicitation
        ? {
            confirm: async (message: string) => {
              const r = await server.server.elicitInput({
                message,
                requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: 'Go ahead', description: 'true runs it; false or declining refuses' } }, required: ['confirm'] },
              });
              return r.action === 'accept' && r.content?.confirm === true;
            },
          }
        : {}),
    };
  };
  for (const def of tools) {
    if (!guard.listed(def)) continue;
    const config = {
      title: def.title,
      description: def.description,
      // strict: an argument the tool does not know is a tool error naming it, not silently dropped
      inputSchema: z.strictObject(def.input),
      outputSchema: outputShape(def),
      annotations: {
        title: def.title,
        readOnlyHint: def.annotations.readOnly,
        destructiveHint: def.annotations.destructive,
        idempotentHint: def.annotations.idempotent,
        openWorldHint: def.annotations.openWorld,
      },
      // an MCP App (ext-apps): hosts that render apps show the result in this ui:// resource; "ui/resourceUri" is the older key some hosts read
      ...(def.ui ? { _meta: { ui: { resourceUri: def.ui }, 'ui/resourceUri': def.ui } } : {}),
    };
    if (!def.long) {
      server.registerTool(def.name, config, async (args: Record<string, unknown>, extra) => toResult(await guard.call(def, args ?? {}, callInfo(extra))));
      continue;
    }
    const handler: ToolTaskHandler<z.ZodObject<z.ZodRawShape>> = {
      createTask: async (input: unknown, extra) => {
        const args = input as Record<string, unknown>;
        const task = await extra.taskStore.createTask({ ttl: null, pollInterval: TASK_POLL_MS });
        const id = task.taskId;
        try {
          if (!tasks.augmented(id)) {
            // The SDK brings a plain call here too, then reads the result from the store: it runs as it always has.
            const result = toResult(await guard.call(def, args ?? {}, callInfo(extra)));
            tasks.settle(id, checkOutput(def, result));
            return { task: tasks.task(id)! };
          }
          const started = await guard.start(def, args ?? {}, callInfo(extra), id);
          if ('refused' in started) {
            tasks.settle(id, toResult(started.refused));
            return { task: tasks.task(id)! };
          }
          tasks.bind(id);
          const store = extra.taskStore; // through the request's store, so the client gets notifications/tasks/status
          void started.answer.then((answer) => {
            const result = toResult(answer);
            return store.storeTaskResult(id, answer.isError ? 'failed' : 'completed', result).catch(() => tasks.settle(id, result));
          });
          return { task: tasks.task(id)! };
        } catch (err) {
          tasks.drop(id);
          throw err;
        }
      },
      getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    };
    server.experimental.tasks.registerToolTask(def.name, { ...config, execution: { taskSupport: 'optional' } }, handler);
  }
  return server;
}

/** checkOutput is what the SDK checks of a plain call's result and skips on the task path: structured content that fits the output schema. */
function checkOutput(def: ToolDef, result: CallToolResult): CallToolResult {
  if (result.isError) return result;
  const parsed = z.object(outputShape(def)).safeParse(result.structuredContent);
  if (parsed.success) return result;
  return { content: [{ type: 'text', text: `Output validation error: Invalid structured content for tool ${def.name}: ${parsed.error.message}` }], isError: true };
}

/** TaskRecord is what a server keeps of one task besides its job: whether the client asked for a task, and the result. */
interface TaskRecord {
  augmented: boolean;
  /** a job runs it (a refused call has none) */
  job: boolean;
  created: string;
  result?: CallToolResult;
  ended?: string;
}

/**
 * JobTasks is the MCP task store of one server (one client session) over the guard's jobs: a task is a job started
 * as one, with the job's id, so tasks/* and mpop_job_* see the same work, and tasks/cancel is mpop_job_kill (the
 * same AbortController). createTask sees the request: the SDK brings plain calls of task-capable tools through it
 * too, and those records (not augmented) are answered inline and forgotten once the SDK has read the result.
 */
class JobTasks implements TaskStore {
  readonly #records = new Map<string, TaskRecord>();

  constructor(private readonly jobs: Jobs) {}

  async createTask(_params: CreateTaskOptions, _requestId: RequestId, request: Request): Promise<Task> {
    for (const [id] of this.#records) {
      if (this.#records.size < MAX_JOBS) break;
      const t = this.task(id);
      if (!t || t.status === 'completed' || t.status === 'failed' || t.status === 'cancelled') this.#records.delete(id);
    }
    const id = newJobId();
    this.#records.set(id, { augmented: isTaskAugmentedRequestParams(request.params) && request.params.task !== undefined, job: false, created: new Date().toISOString() });
    return this.task(id)!;
  }

  /** augmented tells whether the client asked for a task (a task-augmented tools/call). */
  augmented(id: string): boolean {
    return this.#records.get(id)?.augmented === true;
  }

  /** bind says a job with the task's id runs it. */
  bind(id: string): void {
    const r = this.#records.get(id);
    if (r) r.job = true;
  }

  /** settle keeps the task's result (the first one given). */
  settle(id: string, result: CallToolResult): void {
    const r = this.#records.get(id);
    if (r && !r.result) Object.assign(r, { result, ended: new Date().toISOString() });
  }

  drop(id: string): void {
    this.#records.delete(id);
  }

  /** task is the task as MCP shows it: working while the job runs, cancelled if it was killed, failed for an error result. */
  task(id: string): Task | null {
    const r = this.#records.get(id);
    if (!r) return null;
    const job = r.job ? this.jobs.get(id) : undefined;
    if (r.job && !job) {
      this.#records.delete(id); // the job store let it go (the oldest finished jobs go first)
      return null;
    }
    const status: Task['status'] = job?.status === 'killed' ? 'cancelled' : r.result ? (r.result.isError ? 'failed' : 'completed') : 'working';
    const first = (r.result?.content[0] as { text?: string } | undefined)?.text?.split('\n')[0]?.slice(0, 200);
    const message = status === 'cancelled' ? 'killed (tasks/cancel or mpop_job_kill): the remote commands were cancelled' : status === 'failed' ? first : status === 'working' ? job?.progress?.message : undefined;
    return { taskId: id, status, ttl: null, createdAt: r.created, lastUpdatedAt: job?.ended ?? r.ended ?? r.created, pollInterval: TASK_POLL_MS, ...(message ? { statusMessage: message } : {}) };
  }

  async getTask(id: string): Promise<Task | null> {
    return this.augmented(id) ? this.task(id) : null;
  }

  async storeTaskResult(id: string, _status: 'completed' | 'failed', result: Result): Promise<void> {
    this.settle(id, result as CallToolResult);
  }

  async getTaskResult(id: string): Promise<Result> {
    const r = this.#records.get(id);
    const t = this.task(id);
    if (!r || !t) throw new McpError(INVALID_PARAMS, `no task ${id} on this server (tasks live as long as the server; tasks/list lists them)`);
    if (!r.augmented) this.#records.delete(id);
    if (r.result) return r.result;
    if (t.status === 'cancelled') return { content: [{ type: 'text', text: `${id} was cancelled: ${t.statusMessage}` }], isError: true };
    throw new McpError(INVALID_PARAMS, `task ${id} is still ${t.status}; tasks/result waits for it`);
  }

  async updateTaskStatus(id: string, status: Task['status']): Promise<void> {
    if (status === 'cancelled') this.jobs.kill(id);
  }

  async listTasks(cursor?: string): Promise<{ tasks: Task[] }> {
    if (cursor) throw new McpError(INVALID_PARAMS, `no cursor ${cursor}: tasks/list answers in one page`);
    return { tasks: [...this.#records.keys()].filter((id) => this.augmented(id)).map((id) => this.task(id)).filter((t): t is Task => t !== null) };
  }
}

/** nodeLinks are resource links to mpop://nodes/{name} for the nodes a result names (structured nodes[].node, or .name). */
function nodeLinks(structured: Record<string, unknown> | undefined) {
  const rows = structured?.nodes;
  if (!Array.isArray(rows)) return [];
  const names = new Set<string>();
  for (const r of rows) {
    const name = r && typeof r === 'object' ? ((r as { node?: unknown }).node ?? (r as { name?: unknown }).name) : undefined;
    if (typeof name === 'string' && name) names.add(name);
    if (names.size >= MAX_LINKS) break;
  }
  return [...names].map((name) => ({ type: 'resource_link' as const, uri: nodeUri(name), name: `node ${name}`, mimeType: 'application/json', description: `${name}: inventory entry and a live reading` }));
}

/** RESOURCE_NOT_FOUND is the JSON-RPC code MCP gives a read of a resource that is not there. */
const RESOURCE_NOT_FOUND = -32002;
const INVALID_PARAMS = -32602;

/** protocolError turns a read's failure into an McpError: not found for names that match nothing, invalid params for usage. */
function protocolError(err: unknown): McpError {
  const { code, message } = errorInfo(err);
  const rpc = code === 'MPOP_NO_MATCH' || code === 'MPOP_NO_PREVIOUS_RUN' ? RESOURCE_NOT_FOUND : code === 'MPOP_USAGE' ? INVALID_PARAMS : -32603;
  return new McpError(rpc, `${code}: ${message}`);
}

/** registerResources registers mpop's resources: fixed ones by URI, families as ResourceTemplates with list and complete. */
function registerResources(server: McpServer, guard: Guard, defs: ResourceDef[]): void {
  const ctx: ResourceContext = { home: guard.config.home, pool: guard.pool, inventory: () => guard.inventory(), auditFile: guard.audit.file, maxText: guard.config.maxText };
  const wrap = async (uri: URL, mimeType: string, read: () => Promise<string>, meta?: Record<string, unknown>) => {
    try {
      return { contents: [{ uri: uri.href, mimeType, text: await read(), ...(meta ? { _meta: meta } : {}) }] };
    } catch (err) {
      throw protocolError(err);
    }
  };
  for (const def of defs) {
    const meta = { title: def.title, description: def.description, mimeType: def.mimeType };
    if (def.kind === 'fixed') {
      server.registerResource(def.name, def.uri, { ...meta, ...(def.meta ? { _meta: def.meta } : {}) }, (uri) => wrap(uri, def.mimeType, () => def.read(ctx), def.meta));
      continue;
    }
    const complete = Object.fromEntries(Object.entries(def.complete).map(([v, fn]) => [v, (value: string) => fn(value, ctx).catch(() => [])]));
    const template = new ResourceTemplate(def.template, { list: async () => ({ resources: (await def.list(ctx).catch(() => [])).map((r) => ({ ...r, mimeType: def.mimeType })) }), complete });
    server.registerResource(def.name, template, meta, (uri, vars) =>
      wrap(uri, def.mimeType, () => {
        const decoded: Record<string, string> = {};
        for (const [k, v] of Object.entries(vars)) {
          const text = Array.isArray(v) ? v.join(',') : v;
          try {
            decoded[k] = decodeURIComponent(text);
          } catch {
            decoded[k] = text;
          }
        }
        return def.read(decoded, ctx);
      }),
    );
  }
}

/** registerPrompts registers mpop's prompts; a target argument completes with node names and @groups. */
function registerPrompts(server: McpServer, guard: Guard, defs: PromptDef[], offered: ToolDef[], catalogue: ToolDef[]): void {
  const on = new Set(offered.filter((t) => guard.listed(t)).map((t) => t.name));
  const all = new Map(catalogue.map((t) => [t.name, t]));
  const availability = (name: string) => {
    const t = all.get(name);
    return t ? { toolset: t.toolset, offered: on.has(name) } : undefined;
  };
  const targets = async (value: string): Promise<string[]> => {
    const inv = await guard.inventory().catch(() => undefined);
    if (!inv) return [];
    return ['all', ...inv.names, ...inv.groups.map((g) => `@${g.name}`)].filter((t) => t.startsWith(value)).slice(0, 100);
  };
  for (const def of defs) {
    const shape: Record<string, z.ZodType<string | undefined>> = {};
    for (const [name, arg] of Object.entries(def.args)) {
      const base = z.string().describe(arg.description);
      const field = arg.completeTarget ? completable(base, targets) : base;
      shape[name] = (arg.required ? field : field.optional()) as z.ZodType<string | undefined>;
    }
    server.registerPrompt(def.name, { title: def.title, description: def.description, argsSchema: shape as never }, ((args: Record<string, string | undefined>) => ({
      description: def.description,
      messages: [{ role: 'user' as const, content: { type: 'text' as const, text: renderPrompt(def, args ?? {}, availability) } }],
    })) as never);
  }
}

/** serveStdio serves on stdin/stdout (nothing else may write to stdout) until the client closes the pipe. */
export async function serveStdio(server: McpServer): Promise<void> {
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await server.connect(transport);
  process.stdin.once('end', () => void server.close());
  await closed;
}


/**
 * outputShape is the output schema a tool publishes: its own, plus `truncated` and `job` (a result cut at the
 * cap, paged with mpop_job_output). A long tool may instead answer {job, jobStatus: "running"} when it outlives
 * the deadline, so its own fields are optional in what it publishes.
 */
function outputShape(def: ToolDef): z.ZodRawShape {
  const extra = {
    truncated: z.boolean().optional().describe('the text was cut at the server\'s cap; page the rest with mpop_job_output'),
    jobId: z.string().optional().describe('a job id: the rest of a cut result, or the call still running (mpop_job_status)'),
  };
  if (!def.long) return { ...def.output, ...extra };
  return { ...z.object(def.output).partial().shape, ...extra, jobStatus: z.literal('running').optional().describe('present when the call outlived the deadline and goes on as a job') };
}

/** HttpServing is a running streamable HTTP endpoint. */
export interface HttpServing {
  url: string;
  close(): Promise<void>;
}

/**
 * serveHttp serves streamable HTTP at /mcp on `bind:port`: each request first passes checkAccess (Host, Origin,
 * bearer token), then the session's transport (one McpServer per session, from `make`).
 */
export async function serveHttp(make: () => McpServer, bind: string, port: number, policy: (port: number) => AccessPolicy): Promise<HttpServing> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let access: AccessPolicy | undefined;
  const http: Server = createServer((req, res) => {
    const refused = checkAccess(req, access!);
    if (refused) {
      res.writeHead(refused.status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: refused.message }, id: null }));
      return;
    }
    if (!req.url || new URL(req.url, 'http://x').pathname !== '/mcp') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('mpop-mcp serves MCP at /mcp\n');
      return;
    }
    const id = req.headers['mcp-session-id'];
    const existing = typeof id === 'string' ? sessions.get(id) : undefined;
    if (existing) {
      void existing.handleRequest(req, res);
      return;
    }
    if (typeof id === 'string') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'unknown or expired session: initialize again' }, id: null }));
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    const server = make();
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, bind, () => resolve());
  });
  const bound = (http.address() as { port: number }).port;
  access = policy(bound);
  const host = bind.includes(':') ? `[${bind}]` : bind;
  return {
    url: `http://${host}:${bound}/mcp`,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
