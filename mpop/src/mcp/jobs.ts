import { randomBytes } from 'node:crypto';
import type { ToolProgress, ToolResult } from './tool.js';

/** JobStatus is where a job is: running, done, failed (the tool threw), or killed. */
export type JobStatus = 'running' | 'done' | 'failed' | 'killed';

/** Job is a tool call that outlived its deadline, or a result too large for one answer, kept for paging. */
export interface Job {
  id: string;
  tool: string;
  target: string | null;
  started: string;
  ended: string | null;
  status: JobStatus;
  progress: ToolProgress | null;
  /** the result's full text, once there is one */
  text: string | null;
  data: unknown;
  error: string | null;
}

/** JobView is a job as tools return it (no controller, no full text). */
export type JobView = Omit<Job, 'text' | 'data'> & { textBytes: number };

/** JOB_ID is the form of a job id. */
export const JOB_ID = /^job-[0-9a-f]{12}$/;

/** newJobId is a fresh job id (job- and 12 hex digits). */
export function newJobId(): string {
  return `job-${randomBytes(6).toString('hex')}`;
}

/** MAX_JOBS finished jobs are kept; the oldest finished ones go first. */
export const MAX_JOBS = 200;

/** Jobs keeps the server's jobs in memory: they live as long as the server does. */
export class Jobs {
  readonly #jobs = new Map<string, Job & { ac?: AbortController }>();

  /** start records a running job whose work is `work` (under `id`, from newJobId, if given); it settles the job when the work does. */
  start(tool: string, target: string | null, ac: AbortController, work: Promise<ToolResult<unknown>>, id?: string): Job {
    if (id !== undefined && (!JOB_ID.test(id) || this.#jobs.has(id))) throw new Error(`job id ${id} is malformed or taken`);
    const job = this.#add({ tool, target, status: 'running', ac }, id);
    work.then(
      (r) => this.#settle(job.id, r.isError ? 'failed' : 'done', r.text, r.data, r.isError ? r.text.slice(0, 500) : null),
      (err: unknown) => this.#settle(job.id, ac.signal.aborted ? 'killed' : 'failed', null, null, err instanceof Error ? err.message : String(err)),
    );
    return job;
  }

  /** keep stores a finished result whose text was too long for one answer, so it can be paged. */
  keep(tool: string, target: string | null, text: string, data: unknown): Job {
    const job = this.#add({ tool, target, status: 'done' });
    this.#settle(job.id, 'done', text, data, null);
    return job;
  }

  /** progress updates a running job's last progress. */
  progress(id: string, p: ToolProgress): void {
    const job = this.#jobs.get(id);
    if (job && job.status === 'running') job.progress = p;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  /** kill aborts a running job (its remote work is cancelled); it says whether there was one to kill. */
  kill(id: string): boolean {
    const job = this.#jobs.get(id);
    if (!job || job.status !== 'running') return false;
    job.ac?.abort();
    job.status = 'killed';
    job.ended = new Date().toISOString();
    return true;
  }

  list(): JobView[] {
    return [...this.#jobs.values()].map(view);
  }

  #add(j: { tool: string; target: string | null; status: JobStatus; ac?: AbortController }, id = newJobId()): Job & { ac?: AbortController } {
    const job: Job & { ac?: AbortController } = { id, started: new Date().toISOString(), ended: null, progress: null, text: null, data: null, error: null, ...j };
    this.#jobs.set(job.id, job);
    const finished = [...this.#jobs.values()].filter((x) => x.status !== 'running');
    for (const old of finished.slice(0, Math.max(0, this.#jobs.size - MAX_JOBS))) this.#jobs.delete(old.id);
    return job;
  }

  #settle(id: string, status: JobStatus, text: string | null, data: unknown, error: string | null): void {
    const job = this.#jobs.get(id);
    if (!job) return;
    if (job.status === 'running') job.status = status;
    job.ended ??= new Date().toISOString();
    job.text = text;
    job.data = data;
    job.error = error;
    delete job.ac;
  }
}

/** view is a job without its text (and its size instead). */
export function view(j: Job): JobView {
  const { text, data: _data, ...rest } = j as Job & { ac?: unknown };
  delete (rest as { ac?: unknown }).ac;
  return { ...rest, textBytes: text ? Buffer.byteLength(text) : 0 };
}
