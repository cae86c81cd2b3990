import type { VsshClient } from '@meshpop/vssh/client';
import { z } from 'zod';
import { fanout } from '../../fanout/run.js';
import { absent, runTool, ToolError, type Absent, type ToolRun } from '../../facts/tool.js';
import type { ToolDef } from '../tool.js';
import { absentSchema, fleetTool } from './fleet-tool.js';

/** Engine is the container tool a node has. */
type Engine = 'docker' | 'podman';

const NO_DAEMON = /Cannot connect to the Docker daemon|Is the docker daemon running|permission denied while trying to connect/i;

/**
 * runEngine runs `args` with docker, else podman; "no docker or podman on n1" when neither is installed, and
 * "docker is installed on n1 but its daemon does not answer" when that is the case (an Absent, not a failure).
 */
async function runEngine(client: VsshClient, args: (engine: Engine) => string[], signal: AbortSignal): Promise<{ engine: Engine; run: ToolRun } | Absent> {
  const node = client.target.name;
  let dockerDown: string | undefined;
  for (const engine of ['docker', 'podman'] as const) {
    const run = await runTool(client, [engine, ...args(engine)], { signal });
    if (run === 'missing') continue;
    if (run.exitCode !== 0 && engine === 'docker' && NO_DAEMON.test(run.stderr)) {
      dockerDown = run.stderr.trim().split('\n')[0];
      continue;
    }
    return { engine, run };
  }
  return absent(dockerDown ? `docker is installed on ${node} but its daemon does not answer (${dockerDown}), and there is no podman` : `no docker or podman on ${node}`);
}

const mustOk = (node: string, engine: Engine, args: string[], run: ToolRun): ToolRun => {
  if (run.exitCode !== 0) throw new ToolError(node, `${engine} ${args.join(' ')}`, run.exitCode, run.stderr);
  return run;
};

const container = z.object({ id: z.string(), name: z.string(), image: z.string(), state: z.string(), status: z.string(), ports: z.string(), created: z.string() });
type Container = z.infer<typeof container>;

/** parseDockerPs reads `docker ps --format '{{json .}}'`: one JSON object per line. */
export function parseDockerPs(text: string): Container[] {
  return text.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => {
    const o = JSON.parse(l) as Record<string, string>;
    return { id: o.ID ?? '', name: o.Names ?? '', image: o.Image ?? '', state: o.State ?? '', status: o.Status ?? '', ports: o.Ports ?? '', created: o.CreatedAt ?? '' };
  });
}

/** parsePodmanPs reads `podman ps --format json`: one JSON array. */
export function parsePodmanPs(text: string): Container[] {
  const list = JSON.parse(text.trim() || '[]') as Record<string, unknown>[];
  return list.map((o) => ({
    id: String(o.Id ?? o.ID ?? '').slice(0, 12),
    name: Array.isArray(o.Names) ? o.Names.join(',') : String(o.Names ?? ''),
    image: String(o.Image ?? ''),
    state: String(o.State ?? ''),
    status: String(o.Status ?? ''),
    ports: Array.isArray(o.Ports) ? (o.Ports as { host_port?: number; container_port?: number; protocol?: string }[]).map((p) => `${p.host_port}->${p.container_port}/${p.protocol}`).join(', ') : '',
    created: String(o.CreatedAt ?? o.Created ?? ''),
  }));
}

const psValue = z.union([z.object({ present: z.literal(true), engine: z.enum(['docker', 'podman']), containers: z.array(container) }), absentSchema]);

const dockerPs = fleetTool({
  name: 'mpop_docker_ps',
  title: 'Containers',
  description: 'The containers of each node (docker ps, else podman ps): id, name, image, state, status, ports. all includes stopped ones. A node without docker or podman says so.',
  toolset: 'containers',
  defaultAll: true,
  input: { all: z.boolean().optional().describe('include stopped containers (ps --all)') },
  value: psValue,
  gather: (pool, nodes, a, opts) =>
    fanout(pool, nodes, async ({ client, signal }): Promise<z.infer<typeof psValue>> => {
      const args = (e: Engine) => ['ps', ...(a.all ? ['--all'] : []), '--format', e === 'docker' ? '{{json .}}' : 'json'];
      const r = await runEngine(client, args, signal);
      if ('present' in r) return r;
      const out = mustOk(client.target.name, r.engine, args(r.engine), r.run).stdout;
      return { present: true, engine: r.engine, containers: r.engine === 'docker' ? parseDockerPs(out) : parsePodmanPs(out) };
    }, opts),
  render: (v) => (v.present ? (v.containers.length ? v.containers.map((c) => `${c.name} ${c.image} ${c.status}`).join('\n') : `no containers (${v.engine})`) : v.reason),
});

const nameField = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, 'a container name or id (letters, digits, _ . -)').describe('the container\'s name or id');
const logsValue = z.union([z.object({ present: z.literal(true), engine: z.enum(['docker', 'podman']), lines: z.number(), text: z.string(), truncated: z.boolean() }), absentSchema]);
const LOG_BYTES = 64 * 1024;

const dockerLogs = fleetTool({
  name: 'mpop_docker_logs',
  title: 'Container logs',
  description: 'The last lines of a container\'s log on each node of the target (docker/podman logs --tail N, optionally --since), with timestamps; stdout and stderr together. At most 64 kB per node (the newest kept).',
  toolset: 'containers',
  input: {
    container: nameField,
    tail: z.number().int().positive().max(10_000).optional().describe('how many lines from the end (default 200)'),
    since: z.string().regex(/^[0-9A-Za-z:.+-]{1,40}$/).optional().describe('only newer entries: a duration (10m, 2h) or a timestamp (2026-01-02T15:04:05)'),
  },
  value: logsValue,
  gather: (pool, nodes, a, opts) =>
    fanout(pool, nodes, async ({ client, signal }): Promise<z.infer<typeof logsValue>> => {
      const args = ['logs', '--timestamps', '--tail', String(a.tail ?? 200), ...(a.since ? ['--since', a.since] : []), a.container];
      const r = await runEngine(client, () => args, signal);
      if ('present' in r) return r;
      const all = mustOk(client.target.name, r.engine, args, r.run);
      const text = (all.stdout + all.stderr).replace(/\n$/, '');
      const truncated = Buffer.byteLength(text) > LOG_BYTES;
      const kept = truncated ? Buffer.from(text).subarray(-LOG_BYTES).toString('utf8') : text;
      return { present: true, engine: r.engine, lines: kept ? kept.split('\n').length : 0, text: kept, truncated };
    }, opts),
  render: (v) => (v.present ? v.text || '(no log lines)' : v.reason),
});

const restartValue = z.union([z.object({ present: z.literal(true), engine: z.enum(['docker', 'podman']), restarted: z.string() }), absentSchema]);

const restartTool = fleetTool({
  name: 'mpop_docker_restart',
  title: 'Restart a container',
  description: 'Restarts a container on every node of the target (docker/podman restart). Destructive: the service stops for a moment; asks for confirmation. A node without docker or podman restarted nothing: the result is an error saying so.',
  toolset: 'containers',
  input: { container: nameField, waitSeconds: z.number().int().min(0).max(600).optional().describe('seconds to wait for it to stop before killing it (default 10)') },
  value: restartValue,
  annotations: { readOnly: false, destructive: true, idempotent: false, openWorld: true },
  gather: (pool, nodes, a, opts) =>
    fanout(pool, nodes, async ({ client, signal }): Promise<z.infer<typeof restartValue>> => {
      const args = ['restart', '--time', String(a.waitSeconds ?? 10), a.container];
      const r = await runEngine(client, () => args, signal);
      if ('present' in r) return r;
      mustOk(client.target.name, r.engine, args, r.run);
      return { present: true, engine: r.engine, restarted: a.container };
    }, opts),
  render: (v) => (v.present ? `restarted ${v.restarted} (${v.engine})` : v.reason),
});

/** dockerRestart is restartTool with its confirmation, and an error result when some node had nothing to restart with. */
const dockerRestart: ToolDef = {
  ...restartTool,
  confirm: (a) => `Restart container ${String(a.container)} on ${String(a.target)} (it stops for a moment)?`,
  async run(args, ctx) {
    const r = await restartTool.run(args, ctx);
    const nodes = (r.data as { nodes?: { value?: { present?: boolean } }[] }).nodes ?? [];
    return nodes.some((n) => n.value?.present === false) ? { ...r, isError: true } : r;
  },
};

/** containerTools are the `containers` toolset. */
export const containerTools: ToolDef[] = [dockerPs, dockerLogs, dockerRestart];
