import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';

/**
 * The containers toolset over the SDK client against real loopback daemons. The daemons run on this machine,
 * so what the tools say is checked against this machine's docker / podman: on a machine without a working
 * engine every node must say so plainly (never an empty list of containers that nobody looked for).
 */
const MCP_BIN = fileURLToPath(new URL('../../bin/mcp.js', import.meta.url));
type R = { isError?: boolean; structuredContent?: any; content: { text: string }[] };
type NodeOut = { node: string; outcome: string; value?: any; error?: { code: string; message: string } };
const CONTAINER_TOOLS = ['mpop_docker_ps', 'mpop_docker_logs', 'mpop_docker_restart'];

/** Engine is what this machine has: a working docker or podman, or why there is none (as the tools must word it for `node`). */
type Engine = { engine: 'docker' | 'podman' } | { absent: (node: string) => RegExp };

async function engineHere(): Promise<Engine> {
  const run = (cmd: string, args: string[]) => execa(cmd, args, { reject: false, stdin: 'ignore', env: { LC_ALL: 'C' }, timeout: 60_000 });
  const docker = await run('docker', ['ps', '--format', '{{json .}}']);
  const dockerMissing = (docker as { code?: string }).code === 'ENOENT';
  if (!dockerMissing && docker.exitCode === 0) return { engine: 'docker' };
  const podman = await run('podman', ['ps', '--format', 'json']);
  if ((podman as { code?: string }).code !== 'ENOENT') return { engine: 'podman' };
  if (dockerMissing) return { absent: (node) => new RegExp(`^no docker or podman on ${node}$`) };
  return { absent: (node) => new RegExp(`^docker is installed on ${node} but its daemon does not answer \\(.+\\), and there is no podman$`) };
}

describe('mpop-mcp containers tools over real loopback daemons, checked against this machine\'s engine', () => {
  let fleet: Fleet;
  let client: Client;
  let bare: Client;
  let engine: Engine;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('gone1');
    const env = { ...(process.env as Record<string, string>), ...fleet.env };
    [client, bare] = [new Client({ name: 'containers-agent', version: '1.0.0' }), new Client({ name: 'containers-bare', version: '1.0.0' })];
    await Promise.all([
      client.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'containers', '--allow', 'mpop_docker_restart'], env })),
      bare.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'containers'], env })),
    ]);
    await Promise.all([client.listTools(), bare.listTools()]); // the clients check structuredContent against the output schemas
    engine = await engineHere();
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await bare?.close();
    await fleet?.close();
  });
  const call = async (name: string, args: Record<string, unknown> = {}, c = client) => (await c.callTool({ name, arguments: args })) as R;
  const nodes = (r: R): Record<string, NodeOut> => Object.fromEntries((r.structuredContent.nodes as NodeOut[]).map((n) => [n.node, n]));

  it('lists the three tools with described inputs; ps and logs read, restart is destructive', async () => {
    const tools = (await client.listTools()).tools.filter((t) => CONTAINER_TOOLS.includes(t.name));
    expect(tools.map((t) => t.name).sort()).toEqual([...CONTAINER_TOOLS].sort());
    for (const t of tools) for (const [field, schema] of Object.entries((t.inputSchema.properties ?? {}) as Record<string, { description?: string }>)) expect(schema.description, `${t.name}.${field}`).toBeTruthy();
    const ann = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(ann.mpop_docker_ps).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(ann.mpop_docker_logs).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(ann.mpop_docker_restart).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
    expect(tools.find((t) => t.name === 'mpop_docker_restart')!.inputSchema.required).toContain('target');
  });

  it('mpop_docker_ps: per node, this machine\'s containers, or plainly why there are none to list; a down node apart', async () => {
    for (const all of [false, true]) {
      const r = await call('mpop_docker_ps', { target: 'n1,n2,gone1', all });
      const by = nodes(r);
      expect(by.gone1!.outcome).toBe('unreachable');
      expect(r.isError).toBe(true);
      for (const n of ['n1', 'n2']) {
        expect(by[n]!.outcome, n).toBe('ok');
        const v = by[n]!.value;
        if ('absent' in engine) {
          expect(v.present, n).toBe(false);
          expect(v.reason, n).toMatch(engine.absent(n));
          expect(v).not.toHaveProperty('containers'); // no list at all, not an empty one
        } else {
          const args = ['ps', ...(all ? ['--all'] : []), '--format', engine.engine === 'docker' ? '{{json .}}' : 'json'];
          const here = await execa(engine.engine, args, { env: { LC_ALL: 'C' } });
          const ids = engine.engine === 'docker' ? here.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { ID: string }).ID) : (JSON.parse(here.stdout || '[]') as { Id: string }[]).map((c) => c.Id.slice(0, 12));
          expect(v).toMatchObject({ present: true, engine: engine.engine });
          expect(v.containers.map((c: { id: string }) => c.id).sort(), n).toEqual(ids.sort());
        }
      }
      if ('absent' in engine) {
        expect(r.content[0]!.text).not.toContain('no containers');
        for (const n of ['n1', 'n2']) expect(r.content[0]!.text).toContain(`${n}: ${by[n]!.value.reason}`); // each reason names its node
      }
    }
  }, 60_000);

  it('mpop_docker_logs: a container\'s log, or the plain reason there is none here', async () => {
    const r = await call('mpop_docker_logs', { target: 'n1', container: 'no-such-container-mpop', tail: 5 });
    const n1 = nodes(r).n1!;
    if ('absent' in engine) {
      expect(n1.outcome).toBe('ok');
      expect(n1.value.present).toBe(false);
      expect(n1.value.reason).toMatch(engine.absent('n1'));
      expect(n1.value).not.toHaveProperty('text');
      expect(r.content[0]!.text).toContain(n1.value.reason);
    } else {
      // the engine answers, and says the container does not exist: a failure with its words, not an empty log
      expect(n1.outcome).toBe('failed');
      expect(n1.error!.message.toLowerCase()).toContain('no such container');
      expect(r.isError).toBe(true);
    }
  }, 60_000);

  it('mpop_docker_restart: refused without a grant; with one, what each node did, an error where nothing could be restarted', async () => {
    const refused = await call('mpop_docker_restart', { target: 'n1', container: 'web' }, bare);
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(/Refused.*--allow mpop_docker_restart/);
    expect(refused.structuredContent).toBeUndefined(); // nothing ran
    const r = await call('mpop_docker_restart', { target: 'n1,n2', container: 'no-such-container-mpop', waitSeconds: 1 });
    expect(r.isError).toBe(true);
    const by = nodes(r);
    for (const n of ['n1', 'n2']) {
      if ('absent' in engine) {
        expect(by[n]!.outcome, n).toBe('ok');
        expect(by[n]!.value).toEqual({ present: false, reason: expect.stringMatching(engine.absent(n)) });
      } else {
        expect(by[n]!.outcome, n).toBe('failed');
        expect(by[n]!.error!.message.toLowerCase()).toContain('no such container');
      }
    }
  }, 60_000);

  it('a client that can ask is asked which container restarts where; a no runs nothing', async () => {
    const asked: string[] = [];
    const asker = new Client({ name: 'containers-asker', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    asker.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(String(req.params.message));
      return { action: 'accept', content: { confirm: false } };
    });
    await asker.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'containers'], env: { ...(process.env as Record<string, string>), ...fleet.env } }));
    try {
      const r = await call('mpop_docker_restart', { target: 'n1,n2', container: 'web' }, asker);
      expect(r.isError).toBe(true);
      expect(r.content[0]!.text).toContain('the user declined');
      expect(r.structuredContent).toBeUndefined();
      expect(asked).toEqual(['Restart container web on n1,n2 (it stops for a moment)?']);
    } finally {
      await asker.close();
    }
  }, 60_000);

  it('bad arguments to every containers tool are tool errors (nothing reaches a node), and the server goes on serving', async () => {
    const bad: [string, Record<string, unknown>][] = [
      ['mpop_docker_ps', { target: 'n1', all: 'yes' }],
      ['mpop_docker_ps', { target: 'no-such-node' }],
      ['mpop_docker_logs', { target: 'n1', container: '--all' }],
      ['mpop_docker_logs', { target: 'n1', container: 'web;reboot' }],
      ['mpop_docker_logs', { target: 'n1', container: 'web', tail: 0 }],
      ['mpop_docker_logs', { target: 'n1', container: 'web', since: '1h; rm -rf /' }],
      ['mpop_docker_logs', { container: 'web' }],
      ['mpop_docker_restart', { target: 'n1', container: '' }],
      ['mpop_docker_restart', { target: 'n1', container: 'web', waitSeconds: -1 }],
      ['mpop_docker_restart', { target: 'n1', container: '../web' }],
      ['mpop_docker_restart', { container: 'web' }],
    ];
    for (const [name, args] of bad) {
      const r = await call(name, args);
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(r.structuredContent, `${name} ${JSON.stringify(args)}`).toBeUndefined();
    }
    const ok = await call('mpop_docker_ps', { target: 'n2' });
    expect(nodes(ok).n2!.outcome).toBe('ok');
  }, 60_000);
});
