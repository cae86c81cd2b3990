import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, CreateTaskResultSchema, TaskStatusNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, loopFleet, processCount } from '../fleet.js';
import { callTool, MCP_BIN, mcpClient, text, type R } from './client.js';

/** startTask sends a task-augmented tools/call and returns the task the server created, and how long that took. */
async function startTask(c: Client, name: string, args: Record<string, unknown>, onprogress?: (p: { progress: number }) => void) {
  const t0 = performance.now();
  const created = await c.request({ method: 'tools/call', params: { name, arguments: args } }, CreateTaskResultSchema, { task: { ttl: 60_000 }, ...(onprogress ? { onprogress } : {}) });
  return { task: created.task, ms: performance.now() - t0 };
}

const status = async (c: Client, taskId: string) => (await c.experimental.tasks.getTask(taskId)).status;
const result = async (c: Client, taskId: string) => (await c.experimental.tasks.getTaskResult(taskId, CallToolResultSchema, { timeout: 60_000 })) as R;
const jobStatus = async (c: Client, job: string) => ((await callTool(c, 'mpop_job_status', { job })).structuredContent as { job: { status: string } }).job.status;

/** until polls `probe` every 100 ms until `ok` holds of what it returns (or 10 s have passed); it returns the last value. */
async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await probe();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await probe();
  }
  return v;
}

/** stable is a structured result without its timings (durationMs), which differ between two runs of the same call. */
const stable = (v: unknown): unknown => (Array.isArray(v) ? v.map(stable) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'durationMs').map(([k, x]) => [k, stable(x)])) : v);

describe('mpop-mcp long tools as MCP tasks (the SDK client over stdio, loopback daemons)', () => {
  let fleet: Fleet;
  let client: Client;
  beforeAll(async () => {
    fleet = await loopFleet(2);
    client = await mcpClient(fleet, ['--allow-destructive'], { name: 'tasks-agent' });
  });
  afterAll(async () => {
    await client?.close();
    await fleet?.close();
  });

  it('advertises tasks for tools/call, and taskSupport "optional" on the long tools only', async () => {
    expect(client.getServerCapabilities()?.tasks).toMatchObject({ list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const { tools } = await client.listTools();
    const by = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(by.mpop_exec!.execution?.taskSupport).toBe('optional');
    expect(by.mpop_status!.execution?.taskSupport).toBe('optional');
    expect(by.mpop_servers!.execution?.taskSupport ?? 'forbidden').toBe('forbidden');
    expect(by.mpop_jobs!.execution?.taskSupport ?? 'forbidden').toBe('forbidden');
  });

  it('a task returns its id at once, works, completes, and tasks/result is the plain call\'s result; it is a job too', async () => {
    const args = { target: 'n1,n2', shell: 'sleep 3; echo done' };
    const told: { taskId: string; status: string }[] = [];
    client.setNotificationHandler(TaskStatusNotificationSchema, (n) => void told.push(n.params));
    const progress: number[] = [];
    const { task, ms } = await startTask(client, 'mpop_exec', args, (p) => progress.push(p.progress));
    expect(ms).toBeLessThan(2000);
    expect(task.taskId).toMatch(/^job-[0-9a-f]{12}$/);
    expect(task.status).toBe('working');
    expect(task.pollInterval).toBeGreaterThan(0);
    expect(await status(client, task.taskId)).toBe('working');
    expect(await jobStatus(client, task.taskId)).toBe('running');
    const jobs = (await callTool(client, 'mpop_jobs')).structuredContent as { jobs: { id: string; tool: string; target: string }[] };
    expect(jobs.jobs).toContainEqual(expect.objectContaining({ id: task.taskId, tool: 'mpop_exec', target: 'n1,n2' }));
    expect((await client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toContain(task.taskId);

    const t0 = performance.now();
    const viaTask = await result(client, task.taskId); // blocks until the task is done
    expect(performance.now() - t0 + ms).toBeGreaterThan(2500);
    expect(await status(client, task.taskId)).toBe('completed');
    expect(await jobStatus(client, task.taskId)).toBe('done');
    expect(told).toContainEqual(expect.objectContaining({ taskId: task.taskId, status: 'completed' })); // notifications/tasks/status
    expect(progress).toContain(2); // both nodes done, 3 s after the task was made: the progress token lives as long as the task
    expect(viaTask.isError).toBeFalsy();
    expect(viaTask.structuredContent.folded).toEqual([{ nodes: ['n1', 'n2'], label: 'n[1-2]', text: 'done\n' }]);

    const plain = await callTool(client, 'mpop_exec', args, { timeout: 60_000 });
    expect(plain.isError).toBeFalsy();
    expect(stable(viaTask.structuredContent)).toEqual(stable(plain.structuredContent));
    expect(text(viaTask)).toBe(text(plain));
    // the task's job keeps the full text, as a deadline job does
    expect(text(await callTool(client, 'mpop_job_output', { job: task.taskId }))).toContain('done');
  });

  it('tasks/cancel kills the remote process, through the job\'s own controller', async () => {
    const marker = `sleep 966${Math.floor(Math.random() * 10)}`;
    const { task } = await startTask(client, 'mpop_exec', { target: 'n1', shell: `${marker}; true` });
    expect(await until(() => processCount(marker), (n) => n > 0)).toBeGreaterThan(0);
    const cancelled = await client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled.status).toBe('cancelled');
    expect(await until(() => processCount(marker), (n) => n === 0)).toBe(0);
    expect(await status(client, task.taskId)).toBe('cancelled');
    expect(await jobStatus(client, task.taskId)).toBe('killed');
    const r = await result(client, task.taskId);
    expect(r.isError).toBe(true);
    await expect(client.experimental.tasks.cancelTask(task.taskId)).rejects.toThrow(/terminal/);
  });

  it('mpop_job_kill on a task\'s id cancels the task (one piece of work, two names)', async () => {
    const marker = `sleep 955${Math.floor(Math.random() * 10)}`;
    const { task } = await startTask(client, 'mpop_exec', { target: 'n2', shell: `${marker}; true` });
    expect(await until(() => processCount(marker), (n) => n > 0)).toBeGreaterThan(0);
    const kill = await callTool(client, 'mpop_job_kill', { job: task.taskId });
    expect(kill.structuredContent).toMatchObject({ killed: true });
    expect(await until(() => processCount(marker), (n) => n === 0)).toBe(0);
    expect(await status(client, task.taskId)).toBe('cancelled');
  });

  it('a failing run is a failed task whose result carries the per-node outcomes', async () => {
    const { task } = await startTask(client, 'mpop_exec', { target: 'n1', shell: 'echo oops >&2; exit 3' });
    const r = await result(client, task.taskId);
    const t = await client.experimental.tasks.getTask(task.taskId);
    expect(t.status).toBe('failed');
    expect(t.statusMessage).toBeTruthy();
    expect(r.isError).toBe(true);
    expect(r.structuredContent.nodes).toEqual([expect.objectContaining({ node: 'n1', outcome: 'failed', exitCode: 3 })]);
  });

  it('without a task a long tool behaves as before: the answer itself, or a job id past the deadline, and no task', async () => {
    const quick = await callTool(client, 'mpop_exec', { target: 'n1', shell: 'echo plain' });
    expect(quick.isError).toBeFalsy();
    expect(quick.structuredContent.folded).toEqual([{ nodes: ['n1'], label: 'n1', text: 'plain\n' }]);
    const before = (await client.experimental.tasks.listTasks()).tasks.length;
    const c = await mcpClient(fleet, ['--allow-destructive', '--deadline', '1'], { name: 'tasks-plain' });
    try {
      const progress: number[] = [];
      const late = await callTool(c, 'mpop_exec', { target: 'n1,n2', shell: 'sleep 2; echo late' }, { onprogress: (p) => progress.push(p.progress) });
      expect(late.structuredContent).toMatchObject({ jobId: expect.stringMatching(/^job-/), jobStatus: 'running' });
      expect(progress.length).toBeGreaterThan(0);
      expect(await until(() => jobStatus(c, late.structuredContent.jobId), (s) => s !== 'running')).toBe('done');
      expect((await c.experimental.tasks.listTasks()).tasks).toEqual([]); // plain calls leave no task behind
    } finally {
      await c.close();
    }
    expect((await client.experimental.tasks.listTasks()).tasks.length).toBe(before);
  });

  it('a destructive tool without a grant refuses a task as it refuses a call; a client that can confirm is asked first', async () => {
    const bare = await mcpClient(fleet, [], { name: 'tasks-bare' });
    try {
      const plain = await callTool(bare, 'mpop_exec', { target: 'n1', argv: ['true'] });
      expect(plain.isError).toBe(true);
      const { task, ms } = await startTask(bare, 'mpop_exec', { target: 'n1', argv: ['true'] });
      expect(ms).toBeLessThan(2000);
      expect(task.status).toBe('failed');
      const r = await result(bare, task.taskId);
      expect(r.isError).toBe(true);
      expect(text(r)).toBe(text(plain));
      expect(text(r)).toContain('--allow-destructive');
      const jobs = (await callTool(bare, 'mpop_jobs')).structuredContent as { jobs: { id: string }[] };
      expect(jobs.jobs.map((j) => j.id)).not.toContain(task.taskId); // nothing ran
    } finally {
      await bare.close();
    }
    const asked: string[] = [];
    const asking = await mcpClient(fleet, [], { name: 'tasks-asking', elicit: (m) => (asked.push(m), 'yes') });
    try {
      const { task } = await startTask(asking, 'mpop_exec', { target: 'n2', shell: 'echo confirmed' });
      expect(asked).toEqual(['Run `echo confirmed` on n2?']); // asked before the task was made
      expect(text(await result(asking, task.taskId))).toContain('confirmed');
    } finally {
      await asking.close();
    }
    const audit = readFileSync(join(fleet.home, 'mpop', 'mcp-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { client: string; tool: string; decision: string });
    expect(audit.filter((e) => e.client === 'tasks-bare' && e.tool === 'mpop_exec').map((e) => e.decision)).toEqual(['refused', 'refused']);
    expect(audit.filter((e) => e.client === 'tasks-asking' && e.tool === 'mpop_exec').map((e) => e.decision)).toEqual(['confirmed']);
  });

  it('a read-only server refuses a task of a tool that changes the fleet, and runs one that reads', async () => {
    const ro = await mcpClient(fleet, ['--read-only'], { name: 'tasks-ro' });
    try {
      const plain = await callTool(ro, 'mpop_exec', { target: 'n1', argv: ['true'] });
      expect(plain.isError).toBe(true);
      expect(text(plain)).toContain('mpop_exec not found');
      // The tool is not there at all; as a task the SDK answers a JSON-RPC error whose text hides why
      // (modelcontextprotocol/typescript-sdk#1385), but nothing runs and no task is made.
      await expect(startTask(ro, 'mpop_exec', { target: 'n1', argv: ['true'] })).rejects.toMatchObject({ code: -32602 });
      expect((await ro.experimental.tasks.listTasks()).tasks).toEqual([]);
      const { task } = await startTask(ro, 'mpop_status', { target: 'n1' });
      const r = await result(ro, task.taskId);
      expect(await status(ro, task.taskId)).toBe('completed');
      expect(r.structuredContent.nodes).toEqual([expect.objectContaining({ node: 'n1', outcome: 'ok' })]);
    } finally {
      await ro.close();
    }
  });
});

describe('mpop-mcp --http: tasks belong to the session that started them', () => {
  let fleet: Fleet;
  let server: ChildProcess;
  let url = '';
  let token = '';
  beforeAll(async () => {
    fleet = await loopFleet(1);
    token = (await execa(process.execPath, [MCP_BIN, 'token', 'create'], { env: fleet.env })).stdout.trim();
    server = spawn(process.execPath, [MCP_BIN, '--http', '--port', '0', '--allow-destructive'], { env: { ...process.env, ...fleet.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let err = '';
      server.stderr!.on('data', (d) => {
        err += d;
        const m = /serving MCP at (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      server.once('exit', (code) => reject(new Error(`mpop-mcp exited ${code}: ${err}`)));
    });
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await gone;
    }
    await fleet?.close();
  });

  const session = async (name: string) => {
    const c = new Client({ name, version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return c;
  };

  it('another session neither lists, reads nor cancels a task; the server\'s jobs list it for both', async () => {
    const [mine, other] = [await session('tasks-http-a'), await session('tasks-http-b')];
    try {
      const { task } = await startTask(mine, 'mpop_exec', { target: 'n1', shell: 'sleep 1; echo mine' });
      expect((await mine.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toContain(task.taskId);
      expect((await other.experimental.tasks.listTasks()).tasks).toEqual([]);
      await expect(other.experimental.tasks.getTask(task.taskId)).rejects.toThrow(/not found/i);
      await expect(other.experimental.tasks.cancelTask(task.taskId)).rejects.toThrow(/not found/i);
      const jobs = (await callTool(other, 'mpop_jobs')).structuredContent as { jobs: { id: string }[] };
      expect(jobs.jobs.map((j) => j.id)).toContain(task.taskId); // jobs are the server's, as before tasks
      expect(text(await result(mine, task.taskId))).toContain('mine');
      expect(await status(mine, task.taskId)).toBe('completed');
    } finally {
      await mine.close();
      await other.close();
    }
  });
});
