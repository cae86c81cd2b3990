import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, loopFleet } from '../fleet.js';
import { MCP_BIN, mcpClient } from './client.js';

type R = { isError?: boolean; structuredContent?: any; content: { type: string; text?: string; uri?: string }[] };

/** alive tells whether a process exists (a zombie does not count: the daemon reaps its children). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

/** until polls `check` every 100 ms for up to `ms`; it returns the last value. */
async function until<T>(check: () => T, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let v = check();
  while (!v && Date.now() < end) {
    await sleep(100);
    v = check();
  }
  return v;
}

describe('mpop_exec_script over the SDK client and real loopback daemons', () => {
  let fleet: Fleet;
  let client: Client;
  let bare: Client;
  let asking: Client;
  let dir: string;
  const asked: string[] = [];
  beforeAll(async () => {
    fleet = await loopFleet(2);
    await fleet.addDown('gone1');
    dir = mkdtempSync(join(tmpdir(), 'mpop-mcp-script-'));
    const env = { ...(process.env as Record<string, string>), ...fleet.env };
    client = await mcpClient(fleet, ['--toolsets', 'core,exec', '--allow', 'mpop_exec_script', '--deadline', '60'], { name: 'script-agent' });
    bare = await mcpClient(fleet, ['--toolsets', 'core,exec'], { name: 'script-bare' });
    asking = new Client({ name: 'script-asking', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    asking.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(String(req.params.message));
      return { action: 'decline' };
    });
    await asking.connect(new StdioClientTransport({ command: process.execPath, args: [MCP_BIN, '--toolsets', 'core,exec'], env }));
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await bare?.close();
    await asking?.close();
    await fleet?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const call = async (name: string, args: Record<string, unknown>, c = client, signal?: AbortSignal) => (await c.callTool({ name, arguments: args }, undefined, signal ? { signal, timeout: 120_000 } : { timeout: 120_000 })) as R;

  it('is listed in the exec toolset with honest annotations, and not in the default core', async () => {
    const t = (await client.listTools()).tools.find((x) => x.name === 'mpop_exec_script');
    expect(t?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
    expect(Object.keys((t!.inputSchema as { properties: object }).properties)).toEqual(expect.arrayContaining(['target', 'script', 'interpreter', 'args', 'timeoutSeconds', 'concurrency', 'batch', 'stopOnError', 'cwd', 'env']));
    const core = await mcpClient(fleet, [], { name: 'core-only' });
    try {
      expect((await core.listTools()).tools.map((x) => x.name)).not.toContain('mpop_exec_script');
    } finally {
      await core.close();
    }
  }, 60_000);

  it('uploads the script to a private 0700 folder, runs it with its args, and removes it', async () => {
    const marker = join(dir, 'marker');
    const script = '#!/bin/sh\nprintf "%s\\n" "$0" > "$1"\nstat -c %a "$(dirname "$0")" "$0"\necho "second arg: $2"\n';
    const r = await call('mpop_exec_script', { target: 'n1', script, args: [marker, 'two words'] });
    expect(r.isError, r.content[0]?.text).toBeFalsy();
    const ran = readFileSync(marker, 'utf8').trim();
    expect(ran).toMatch(/^\/tmp\/mpop-script-[0-9a-f]{18}\/script$/);
    expect(r.structuredContent.nodes).toMatchObject([{ node: 'n1', outcome: 'ok', exitCode: 0, stdout: '700\n700\nsecond arg: two words\n' }]);
    expect(r.structuredContent.command).toMatch(/^\/bin\/sh <script: \d+ bytes, 4 lines>$/);
    expect(r.structuredContent.command).not.toContain('printf');
    expect(existsSync(ran)).toBe(false);
    expect(existsSync(dirname(ran))).toBe(false);
    // A resource link to the node it ran on.
    expect(r.content.filter((c) => c.type === 'resource_link').map((c) => c.uri)).toEqual(['mpop://nodes/n1']);
  }, 60_000);

  it('folds identical outputs, runs python3 and bash, and reports a non-zero exit as failed', async () => {
    const py = await call('mpop_exec_script', { target: 'n1,n2', interpreter: 'python3', script: 'import sys\nprint("py", sys.argv[1:], 6 * 7)\n', args: ['a'] });
    expect(py.isError, py.content[0]?.text).toBeFalsy();
    expect(py.structuredContent.folded).toEqual([{ nodes: ['n1', 'n2'], label: expect.any(String), text: "py ['a'] 42\n" }]);
    expect(py.structuredContent.counts.ok).toBe(2);
    const bash = await call('mpop_exec_script', { target: 'n2', interpreter: 'bash', script: 'arr=(x y z)\necho "${#arr[@]}"\nexit 3\n' });
    expect(bash.isError).toBe(true);
    expect(bash.structuredContent.nodes[0]).toMatchObject({ node: 'n2', outcome: 'failed', exitCode: 3, stdout: '3\n' });
  }, 60_000);

  it('a node that is down is its own outcome; the others run', async () => {
    const marker = join(dir, 'down-marker');
    const r = await call('mpop_exec_script', { target: 'n1,gone1', interpreter: 'sh', script: 'echo "$0" > "$1"\n', args: [marker], timeoutSeconds: 10 });
    expect(r.isError).toBe(true);
    const by = Object.fromEntries(r.structuredContent.nodes.map((n: { node: string }) => [n.node, n]));
    expect(by.n1.outcome).toBe('ok');
    expect(by.gone1.outcome).toBe('unreachable');
    expect(by.gone1.error.message).toContain('gone1');
    expect(r.structuredContent.counts).toMatchObject({ ok: 1, unreachable: 1 });
    expect(existsSync(dirname(readFileSync(marker, 'utf8').trim()))).toBe(false);
  }, 60_000);

  it('after a timeout the script\'s processes are killed and its folder is gone', async () => {
    const marker = join(dir, 'timeout-marker');
    const r = await call('mpop_exec_script', { target: 'n1', interpreter: 'sh', script: 'echo "$0 $$" > "$1"\nsleep 60\n', args: [marker], timeoutSeconds: 2 });
    expect(r.isError).toBe(true);
    expect(r.structuredContent.nodes[0]).toMatchObject({ node: 'n1', outcome: 'timedout' });
    expect(r.structuredContent.nodes[0].durationMs).toBeLessThan(30_000);
    const [path, pid] = readFileSync(marker, 'utf8').trim().split(' ');
    expect(existsSync(dirname(path!))).toBe(false);
    expect(await until(() => !alive(Number(pid)), 10_000)).toBe(true);
  }, 90_000);

  it('a cancelled call kills the script and still removes its folder', async () => {
    const marker = join(dir, 'cancel-marker');
    const ac = new AbortController();
    const pending = call('mpop_exec_script', { target: 'n1', interpreter: 'sh', script: 'echo "$0 $$" > "$1"\nsleep 60\n', args: [marker] }, client, ac.signal).catch((e: unknown) => e);
    expect(await until(() => existsSync(marker) && readFileSync(marker, 'utf8').includes(' '), 30_000)).toBe(true);
    const [path, pid] = readFileSync(marker, 'utf8').trim().split(' ');
    expect(existsSync(path!)).toBe(true);
    ac.abort();
    await pending;
    expect(await until(() => !existsSync(dirname(path!)), 20_000)).toBe(true);
    expect(await until(() => !alive(Number(pid)), 10_000)).toBe(true);
    // The server is still serving.
    expect((await call('mpop_exec_script', { target: 'n1', interpreter: 'sh', script: 'echo still\n' })).structuredContent.nodes[0].stdout).toBe('still\n');
  }, 90_000);

  it('without a grant it is refused (nothing runs); an asking client is shown the script\'s first lines and size', async () => {
    const marker = join(dir, 'refused-marker');
    const script = `#!/bin/sh\n# rotate the logs\ntouch "${marker}"\n${'echo filler\n'.repeat(10)}`;
    const r = await call('mpop_exec_script', { target: 'n1', script }, bare);
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toMatch(/Refused: .*--allow mpop_exec_script/);
    const d = await call('mpop_exec_script', { target: 'n1,n2', script }, asking);
    expect(d.isError).toBe(true);
    expect(d.content[0]!.text).toContain('the user declined');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain(`${Buffer.byteLength(script)} bytes`);
    expect(asked[0]).toContain('on n1,n2');
    expect(asked[0]).toContain('# rotate the logs');
    expect(asked[0]).toContain(`touch "${marker}"`);
    expect(asked[0]).toMatch(/\.\.\. \(\d+ more lines\)/);
    expect(existsSync(marker)).toBe(false);
  }, 60_000);

  it('bad arguments are tool errors and the server goes on', async () => {
    const noShebang = await call('mpop_exec_script', { target: 'n1', script: 'echo hi\n' });
    expect(noShebang.isError).toBe(true);
    expect(noShebang.content[0]!.text).toContain('#!');
    for (const args of [{ target: 'n1', script: 42 }, { target: 'n1', script: 'x', interpreter: 'perl' }, { target: 'n1', script: '' }, { script: '#!/bin/sh\n' }, { target: 'n1', interpreter: 'sh', script: 'true', args: 'a' }, { target: 'nope', interpreter: 'sh', script: 'true' }]) {
      const r = await call('mpop_exec_script', args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
    }
    const ok = await call('mpop_exec_script', { target: 'n1', interpreter: 'sh', script: 'echo ok' });
    expect(ok.structuredContent.nodes[0]).toMatchObject({ outcome: 'ok', stdout: 'ok\n' });
  }, 60_000);
});
