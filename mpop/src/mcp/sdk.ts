/**
 * The one module that touches the MCP SDK (1.x): it registers mpop's ToolDefs on an McpServer and connects
 * transports. Tools, the guard, jobs and the audit know nothing of the SDK, so a move to the v2 packages
 * (@modelcontextprotocol/server) changes this file only.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { VERSION } from '../version.js';
import type { Guard } from './guard.js';
import type { ToolDef } from './tool.js';

/** PROGRESS_EVERY_MS: progress notifications are sent at most this often per call (and always for the last). */
const PROGRESS_EVERY_MS = 200;

/** createMcpServer makes an McpServer offering `tools` (those the guard lists) with their schemas and annotations. */
export function createMcpServer(tools: ToolDef[], guard: Guard, instructions: string): McpServer {
  const server = new McpServer({ name: 'mpop-mcp', version: VERSION }, { capabilities: { logging: {} }, instructions });
  for (const def of tools) {
    if (!guard.listed(def)) continue;
    server.registerTool(
      def.name,
      {
        title: def.title,
        description: def.description,
        inputSchema: def.input,
        outputSchema: outputShape(def),
        annotations: {
          title: def.title,
          readOnlyHint: def.annotations.readOnly,
          destructiveHint: def.annotations.destructive,
          idempotentHint: def.annotations.idempotent,
          openWorldHint: def.annotations.openWorld,
        },
      },
      async (args: Record<string, unknown>, extra) => {
        const token = extra._meta?.progressToken;
        let last = 0;
        const caps = server.server.getClientCapabilities();
        const answer = await guard.call(def, args ?? {}, {
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
        });
        return { content: [{ type: 'text' as const, text: answer.text }], ...(answer.structured ? { structuredContent: answer.structured } : {}), ...(answer.isError ? { isError: true } : {}) };
      },
    );
  }
  return server;
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
