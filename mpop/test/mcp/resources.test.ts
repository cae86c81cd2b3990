import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry, wirePaths } from '@meshpop/wire';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';

const MCP_BIN = fileURLToPath(new URL('../../bin/mcp.js', import.meta.url));
type R = { isError?: boolean; structuredContent?: any; content: { type: string; text?: string; uri?: string }[] };

describe('mpop-mcp resources, prompts and mpop_enroll over the SDK client', () => {
  let fleet: Fleet;
  let client: Client;
  let core: Client;
  let toolNames: string[];
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('gone1');
    // A coordinator's registry (never served) so that enroll gets as far as connecting.
    mkdirSync(wirePaths(fleet.home).dir, { recursive: true });
    const reg = new Registry(wirePaths(fleet.home).registry);
    reg.setMeta('url', 'https://127.0.0.1:1');
    reg.setMeta('fingerprint', Array.from({ length: 32 }, () => 'AB').join(':'));
    reg.setMeta('probe_port', '8788');
    reg.close();
    const env = { ...(process.env as Record<string, string>), ...fleet.env };
    delete env.SSH_AUTH_SOCK;
    client = new Client({ name: 'res-agent', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'all', '--allow', 'mpop_enroll', '--allow', 'mpop_exec'], env }));
    core = new Client({ name: 'res-core', version: '1.0.0' });
    await core.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN], env }));
    toolNames = (await client.listTools()).tools.map((t) => t.name);
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await core?.close();
    await fleet?.close();
  });
  const call = async (name: string, args: Record<string, unknown>, c = client) => (await c.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as R;
  const read = async (uri: string) => {
    const r = await client.readResource({ uri });
    return r.contents[0] as { uri: string; mimeType?: string; text: string };
  };

  it('lists the fixed resources and the node resources, and the templates', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining(['mpop://nodes', 'mpop://audit', 'mpop://nodes/n1', 'mpop://nodes/n2', 'mpop://nodes/gone1']));
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(['mpop://nodes/{name}', 'mpop://releases/{target}']);
  });

  it('mpop://nodes is the inventory with addresses; mpop://nodes/{name} adds a live reading or says why not', async () => {
    const inv = JSON.parse((await read('mpop://nodes')).text);
    const byName = Object.fromEntries(inv.nodes.map((n: { name: string }) => [n.name, n]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['gone1', 'n1', 'n2'])); // and the registry's own coordinator
    expect(byName.n1.addresses).toEqual([{ address: `127.0.0.1:${fleet.nodes.find((n) => n.name === 'n1')!.port}`, via: 'static' }]);
    const n1 = JSON.parse((await read('mpop://nodes/n1')).text);
    expect(n1.name).toBe('n1');
    expect(n1.live.reachable).toBe(true);
    expect(n1.live.status.cores).toBeGreaterThan(0);
    expect(n1.live.status.rttMs).toBeGreaterThanOrEqual(0);
    const gone = JSON.parse((await read('mpop://nodes/gone1')).text);
    expect(gone.live).toMatchObject({ reachable: false, outcome: 'unreachable' });
    expect(gone.live.error.message.length).toBeGreaterThan(5);
    const missing = await client.readResource({ uri: 'mpop://nodes/nosuch' }).catch((e: Error & { code?: number }) => e);
    expect(missing).toBeInstanceOf(Error);
    expect((missing as { code?: number }).code).toBe(-32002);
    expect((missing as Error).message).toMatch(/no node named "nosuch".*n1/);
  }, 60_000);

  it('the node template completes node names; the releases template completes targets', async () => {
    const c = await client.complete({ ref: { type: 'ref/resource', uri: 'mpop://nodes/{name}' }, argument: { name: 'name', value: 'n' } });
    expect(c.completion.values.sort()).toEqual(['n1', 'n2']);
    const g = await client.complete({ ref: { type: 'ref/resource', uri: 'mpop://nodes/{name}' }, argument: { name: 'name', value: 'go' } });
    expect(g.completion.values).toEqual(['gone1']);
    const t = await client.complete({ ref: { type: 'ref/resource', uri: 'mpop://releases/{target}' }, argument: { name: 'target', value: 'n2' } });
    expect(t.completion.values).toContain('n2:/');
  });

  it('mpop://audit has the last calls; results carry links to the nodes they name', async () => {
    const r = await call('mpop_exec', { target: 'n1,n2', argv: ['true'] });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    expect(r.content.filter((c) => c.type === 'resource_link').map((c) => c.uri)).toEqual(['mpop://nodes/n1', 'mpop://nodes/n2']);
    const a = await read('mpop://audit');
    const lines = a.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ tool: 'mpop_exec', client: 'res-agent', targets: 'n1,n2', decision: 'allowed', outcome: 'ok' });
  });

  it('mpop://releases/{target} reads the releases as mpop_releases does, and refuses a bad target', async () => {
    const dir = `${fleet.home}/nodeploy`;
    const r = JSON.parse((await read(`mpop://releases/${encodeURIComponent(`n1,n2:${dir}`)}`)).text);
    expect(r).toMatchObject({ target: 'n1,n2', path: dir });
    expect(r.nodes.map((n: { node: string; outcome: string; value?: { kind: string } }) => [n.node, n.outcome, n.value?.kind])).toEqual([['n1', 'ok', 'missing'], ['n2', 'ok', 'missing']]);
    const bad = await client.readResource({ uri: 'mpop://releases/nocolon' }).catch((e: Error & { code?: number }) => e);
    expect((bad as { code?: number }).code).toBe(-32602);
    expect((bad as Error).message).toContain('TARGET:PATH');
  }, 60_000);

  it('prompts list with their arguments and get with them; every tool they name exists', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(['deploy', 'health_report', 'incident', 'troubleshoot']);
    expect(prompts.find((p) => p.name === 'troubleshoot')!.arguments!.map((a) => [a.name, a.required])).toEqual([['target', true], ['symptom', false]]);
    const cases: [string, Record<string, string>][] = [
      ['troubleshoot', { target: '@web', symptom: 'the site answers 502' }],
      ['deploy', { source: '/srv/build', target: '@web:/var/www/site', health: 'curl -fsS localhost/health' }],
      ['health_report', { target: 'n1' }],
      ['incident', { description: 'disk full on the database' }],
    ];
    for (const [name, args] of cases) {
      const p = await client.getPrompt({ name, arguments: args });
      const text = (p.messages[0]!.content as { text: string }).text;
      for (const v of Object.values(args)) expect(text, name).toContain(v);
      const named = [...new Set(text.match(/\b(?:mpop|vssh|wire|meshdb|vault)_[a-z_]+/g) ?? [])];
      expect(named.length, name).toBeGreaterThan(2);
      for (const t of named) expect(toolNames, `${name} names ${t}`).toContain(t);
      expect(text).not.toContain('Not offered');
    }
    // On a default (core) server the prompt says which toolsets its other tools need.
    const p = await core.getPrompt({ name: 'troubleshoot', arguments: { target: 'all' } });
    expect((p.messages[0]!.content as { text: string }).text).toMatch(/Not offered by this server: .*mpop_heal_check \(heal\).*--toolsets core,.*heal/);
    const missingArg = await client.getPrompt({ name: 'incident', arguments: {} }).catch((e: Error) => e);
    expect(missingArg).toBeInstanceOf(Error);
    const c = await client.complete({ ref: { type: 'ref/prompt', name: 'troubleshoot' }, argument: { name: 'target', value: 'n' } });
    expect(c.completion.values.sort()).toEqual(['n1', 'n2']);
  });

  it('mpop_enroll: listed honestly, refused without a grant, bad arguments are tool errors, an SSH port that refuses fails at connect', async () => {
    const t = (await client.listTools()).tools.find((x) => x.name === 'mpop_enroll');
    expect(t?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
    const refused = await call('mpop_enroll', { name: 'new1', host: 'root@127.0.0.1' }, core);
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(/not a tool|not found|Refused|unknown/i); // core does not offer inventory tools at all
    const bareAll = new Client({ name: 'res-bare', version: '1.0.0' });
    await bareAll.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'inventory'], env: { ...(process.env as Record<string, string>), ...fleet.env } }));
    try {
      const r = await call('mpop_enroll', { name: 'new1', host: 'root@127.0.0.1' }, bareAll);
      expect(r.isError).toBe(true);
      expect(r.content[0]!.text).toContain('--allow mpop_enroll');
    } finally {
      await bareAll.close();
    }
    for (const args of [{ name: 'new1', host: 'root@host;rm -rf /' }, { name: 'new1', host: '$(id)@127.0.0.1' }, { name: 'Bad_Name', host: 'root@127.0.0.1' }, { name: 'new1', host: 'root@127.0.0.1', port: 0 }, { name: 'new1' }]) {
      const r = await call('mpop_enroll', args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
      expect(r.content[0]!.text?.length).toBeGreaterThan(10);
    }
    const port = fleet.nodes.find((n) => n.name === 'gone1')!.port; // nothing listens there
    const pw = `${fleet.home}/ssh-password`;
    writeFileSync(pw, 'not-a-real-password\n', { mode: 0o600 });
    const down = await call('mpop_enroll', { name: 'new1', host: 'root@127.0.0.1', port, passwordFile: pw, connectTimeoutSeconds: 5 });
    expect(down.isError).toBe(true);
    expect(down.structuredContent).toMatchObject({ enrolled: false, failedStep: 'connect', error: { code: 'MPOP_UNREACHABLE' } });
    expect(down.structuredContent.steps[0]).toMatchObject({ step: 'connect', status: 'failed' });
    expect(down.structuredContent.steps.slice(1).every((s: { status: string }) => s.status === 'not run')).toBe(true);
    expect(down.content[0]!.text).toContain(`failed at connect (MPOP_UNREACHABLE): connect: cannot reach 127.0.0.1:${port}`);
    const reg = new Registry(wirePaths(fleet.home).registry);
    try {
      expect(reg.listTokens()).toEqual([]); // no join token was made
    } finally {
      reg.close();
    }
    expect(JSON.stringify(down)).not.toContain('not-a-real-password');
    expect((await call('mpop_servers', {})).isError).toBeFalsy();
  }, 90_000);
});
