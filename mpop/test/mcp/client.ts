import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** MCP_BIN is the built mpop-mcp under test. */
export const MCP_BIN = fileURLToPath(new URL('../../bin/mcp.js', import.meta.url));

/** R is a tool result as the tests read it. */
export type R = { isError?: boolean; structuredContent?: any; content: { type: string; text?: string; uri?: string }[] };

/** McpClientOptions: the client's name (the audit records it), how it answers confirmations, extra environment. */
export interface McpClientOptions {
  name?: string;
  /** answers a confirmation (elicitation); without it the client cannot be asked */
  elicit?: (message: string) => 'yes' | 'no' | 'decline';
  env?: Record<string, string>;
  /** the server's stderr: 'pipe' keeps it out of the test output */
  stderr?: 'inherit' | 'pipe' | 'ignore';
}

/** mcpClient starts the built mpop-mcp with `args` against `fleet` (its env) and connects a real SDK client over stdio. */
export async function mcpClient(fleet: { env: Record<string, string> }, args: string[] = [], opts: McpClientOptions = {}): Promise<Client> {
  const client = new Client({ name: opts.name ?? 'vitest-agent', version: '1.0.0' }, { capabilities: opts.elicit ? { elicitation: {} } : {} });
  const answer = opts.elicit;
  if (answer) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      const a = answer(String(req.params.message));
      return a === 'decline' ? { action: 'decline' } : { action: 'accept', content: { confirm: a === 'yes' } };
    });
  }
  const env = { ...(process.env as Record<string, string>), ...fleet.env, ...opts.env };
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, ...args], env, stderr: opts.stderr ?? 'inherit' }));
  return client;
}

/** callTool calls a tool and returns its result as the tests read it (the SDK's type is a union with a legacy form). */
export async function callTool(c: Client, name: string, args: Record<string, unknown> = {}, opts?: RequestOptions): Promise<R> {
  return (await c.callTool({ name, arguments: args }, undefined, opts)) as R;
}

/** text is a result's text content, joined. */
export const text = (r: object): string => (((r as { content?: unknown }).content ?? []) as { text?: string }[]).map((c) => c.text ?? '').join('\n');
