import { z } from 'zod';
import { MpopError } from '../../errors.js';
import { page } from '../cap.js';
import { JOB_ID, view, type Jobs } from '../jobs.js';
import { defineTool, LOCAL_READ } from '../tool.js';

const jobView = z.object({
  id: z.string(),
  tool: z.string(),
  target: z.string().nullable(),
  started: z.string(),
  ended: z.string().nullable(),
  status: z.enum(['running', 'done', 'failed', 'killed']),
  progress: z.object({ done: z.number(), total: z.number().optional(), message: z.string().optional() }).nullable(),
  error: z.string().nullable(),
  textBytes: z.number(),
});

const jobId = z.string().regex(JOB_ID).describe('the job id a long call or a truncated result returned (job-...); a task\'s id is its job\'s');

/** jobTools are the tools over the server's jobs (they need the guard's job store). */
export function jobTools(jobs: Jobs) {
  const find = (id: string) => {
    const j = jobs.get(id);
    if (!j) throw new MpopError('MPOP_NO_MATCH', `no job ${id} on this server (jobs live as long as the server; mpop_jobs lists them)`);
    return j;
  };
  return [
    defineTool({
      name: 'mpop_jobs',
      title: 'List jobs',
      description: 'The jobs of this server: calls that outlived the deadline or ran as MCP tasks (still running or finished) and results too long for one answer. Newest last.',
      toolset: 'core',
      input: {},
      output: { jobs: z.array(jobView) },
      annotations: LOCAL_READ,
      async run() {
        const list = jobs.list();
        return { data: { jobs: list }, text: list.map((j) => `${j.id} ${j.tool} ${j.target ?? ''} ${j.status}${j.progress?.message ? ` (${j.progress.message})` : ''}`).join('\n') || 'No jobs.' };
      },
    }),
    defineTool({
      name: 'mpop_job_status',
      title: 'Job status',
      description: 'Where a job is: running (with its last progress), done, failed or killed. When done, mpop_job_output reads its result.',
      toolset: 'core',
      input: { job: jobId },
      output: { job: jobView },
      annotations: LOCAL_READ,
      async run({ job }) {
        const j = view(find(job));
        return { data: { job: j }, text: `${j.id} (${j.tool}${j.target ? ` on ${j.target}` : ''}): ${j.status}${j.progress?.message ? `, ${j.progress.message}` : ''}${j.error ? `: ${j.error}` : ''}${j.status !== 'running' ? `; ${j.textBytes} bytes of output` : ''}` };
      },
    }),
    defineTool({
      name: 'mpop_job_output',
      title: 'Job output',
      description: 'A finished job\'s result text, a page at a time: give offset (bytes) from the previous page\'s nextOffset until it is null.',
      toolset: 'core',
      input: { job: jobId, offset: z.number().int().min(0).optional().describe('byte offset to start from (default 0)'), maxBytes: z.number().int().min(100).max(100_000).optional().describe('page size in bytes (default: the server\'s cap)') },
      output: { job: z.string(), status: z.string(), offset: z.number(), nextOffset: z.number().nullable(), totalBytes: z.number(), text: z.string(), result: z.unknown().optional() },
      annotations: LOCAL_READ,
      async run({ job, offset = 0, maxBytes }) {
        const j = find(job);
        if (j.status === 'running') return { data: { job, status: j.status, offset, nextOffset: 0, totalBytes: 0, text: '' }, text: `${job} is still running${j.progress?.message ? ` (${j.progress.message})` : ''}; ask again later.` };
        if (j.text === null) return { data: { job, status: j.status, offset: 0, nextOffset: null, totalBytes: 0, text: '' }, text: `${job} ended ${j.status}${j.error ? `: ${j.error}` : ''} with no output.`, isError: j.status !== 'done' };
        const p = page(j.text, offset, Math.min(maxBytes ?? 20_000, 20_000));
        return { data: { job, status: j.status, offset, nextOffset: p.nextOffset, totalBytes: p.totalBytes, text: p.text, ...(offset === 0 && p.nextOffset === null ? { result: j.data } : {}) }, text: p.text + (p.nextOffset !== null ? `\n[more: offset ${p.nextOffset} of ${p.totalBytes}]` : '') };
      },
    }),
    defineTool({
      name: 'mpop_job_kill',
      title: 'Kill a job',
      description: 'Stop a running job: its remote work is cancelled (vssh kills the commands\' process groups on the nodes).',
      toolset: 'core',
      input: { job: jobId },
      output: { job: z.string(), killed: z.boolean(), status: z.string() },
      annotations: { readOnly: false, destructive: false, idempotent: true, openWorld: true },
      async run({ job }) {
        const j = find(job);
        const killed = jobs.kill(job);
        return { data: { job, killed, status: j.status }, text: killed ? `${job} killed; its remote commands are being cancelled.` : `${job} was not running (${j.status}).` };
      },
    }),
  ];
}
