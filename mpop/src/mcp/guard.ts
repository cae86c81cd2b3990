import type { Pool } from '@meshpop/vssh';
import { errorInfo } from '../errors.js';
import { loadInventory, type Inventory } from '../inventory/inventory.js';
import { Audit, type AuditEntry } from './audit.js';
import { capText } from './cap.js';
import { Jobs, type Job } from './jobs.js';
import type { ToolDef, ToolProgress, ToolResult } from './tool.js';

/** GuardConfig is the safety and size policy every call passes through. */
export interface GuardConfig {
  home: string;
  readOnly: boolean;
  /** destructive tools run without asking (the operator said so at start) */
  allowDestructive: boolean;
  /** destructive tools allowed by name without asking */
  allow: Set<string>;
  /** text bytes per result */
  maxText: number;
  /** past this, a long tool's call returns a job id and the work goes on */
  deadlineMs: number;
}

/** CallInfo is what the transport knows about one call. */
export interface CallInfo {
  signal: AbortSignal;
  client: string;
  progress(p: ToolProgress): void;
  /** asks the user through the client (elicitation); undefined when the client cannot ask */
  confirm?: (message: string) => Promise<boolean>;
}

/** Answer is a call's result in transport-neutral form. */
export interface Answer {
  text: string;
  structured?: Record<string, unknown>;
  isError: boolean;
}

/** HINTS say what to do next for the usual expected failures. */
const HINTS: Record<string, string> = {
  MPOP_NO_MATCH: 'Call mpop_servers to see the node names and groups.',
  MPOP_USAGE: 'Check the arguments against the tool\'s input schema.',
  MPOP_BAD_INVENTORY: 'Fix $MESHPOP_HOME/mpop/inventory.yaml (the message names the line).',
  VSSH_UNREACHABLE: 'The node may be down: mpop_status shows which nodes answer; mpop_heal_check diagnoses.',
  VSSH_POLICY: 'The node\'s own vssh policy refused this; it cannot be overridden from here.',
  VSSH_NO_KEY: 'This machine holds no vssh master key: run mpop-mcp on the controller (where vssh keys init ran).',
  VAULT_LOCKED: 'The vault is locked: unlock it on the controller (sv unlock) and retry.',
};

/** Guard runs tool calls: it refuses what the policy forbids, confirms destructive calls, caps output, turns long calls into jobs, and audits. */
export class Guard {
  readonly jobs = new Jobs();
  readonly audit: Audit;
  #inventory: { at: number; inv: Promise<Inventory> } | undefined;

  constructor(readonly config: GuardConfig, readonly pool: Pool, auditFile: string) {
    this.audit = new Audit(auditFile);
  }

  /** listed tells whether a tool is offered at all (read-only mode hides every tool that changes anything). */
  listed(def: ToolDef): boolean {
    return !this.config.readOnly || def.annotations.readOnly;
  }

  /** inventory is loaded once per second at most: calls in a burst share it. */
  inventory(): Promise<Inventory> {
    const now = Date.now();
    if (!this.#inventory || now - this.#inventory.at > 1000) {
      const inv = loadInventory({ home: this.config.home });
      inv.catch(() => (this.#inventory = undefined));
      this.#inventory = { at: now, inv };
    }
    return this.#inventory.inv;
  }

  /** call runs one tool call through the policy and returns its answer; it never throws. */
  async call(def: ToolDef, args: Record<string, unknown>, info: CallInfo): Promise<Answer> {
    const run = await this.#admit(def, args, info);
    if ('refused' in run) return run.refused;
    const onAbort = (): void => run.ac.abort();
    info.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (def.long) {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.config.deadlineMs)));
        const first = await Promise.race([run.work.catch(() => 'threw' as const), late]);
        clearTimeout(timer);
        if (first === 'late') {
          info.signal.removeEventListener('abort', onAbort); // the job outlives the call: cancel it with mpop_job_kill
          const job = run.toJob();
          return { text: `Still running after ${Math.round(this.config.deadlineMs / 1000)} s: job ${job.id}. Call mpop_job_status with {"job": "${job.id}"} to follow it, mpop_job_output for its result, mpop_job_kill to stop it.`, structured: { jobId: job.id, jobStatus: 'running' }, isError: false };
        }
      }
      return await run.finish();
    } finally {
      info.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * start runs a call as a job from its first moment (an MCP task): it passes the same policy as call (a refusal
   * is the same answer, and no job), then returns the job at once and `answer`, the answer call would have given.
   * `id` is the job's id when the caller has one already (a task's); progress goes to the job and to info.progress.
   * The job is cancelled with jobs.kill (mpop_job_kill), not by the request that started it.
   */
  async start(def: ToolDef, args: Record<string, unknown>, info: CallInfo, id?: string): Promise<{ refused: Answer } | { job: Job; answer: Promise<Answer> }> {
    const run = await this.#admit(def, args, info);
    if ('refused' in run) return run;
    const job = run.toJob({ id, reporting: true });
    return { job, answer: run.finish({ audit: false }) };
  }

  /**
   * #admit applies the policy (read-only, confirmation of destructive tools) and, if the call may run, starts its
   * work: `finish` turns the work into the answer (capped, audited), `toJob` hands it to a job (audited as one).
   */
  async #admit(def: ToolDef, args: Record<string, unknown>, info: CallInfo): Promise<{ refused: Answer } | Run> {
    const started = performance.now();
    let targets: string | null = null;
    try {
      targets = def.targets?.(args as never) ?? null;
    } catch {
      /* the run reports bad arguments */
    }
    const entry = (decision: AuditEntry['decision'], outcome: AuditEntry['outcome'], message?: string): void => {
      try {
        this.audit.record({ time: new Date().toISOString(), client: info.client, tool: def.name, targets, args, decision, outcome, durationMs: Math.round(performance.now() - started), ...(message ? { message: message.slice(0, 300) } : {}) });
      } catch (err) {
        process.stderr.write(`mpop-mcp: cannot write the audit log: ${(err as Error).message}\n`);
      }
    };
    if (!this.listed(def)) {
      entry('refused', 'refused', 'read-only mode');
      return { refused: { text: `${def.name} changes the fleet, and this server runs read-only (--read-only). Ask the operator to start mpop-mcp without it.`, isError: true } };
    }
    let decision: AuditEntry['decision'] = 'allowed';
    if (def.annotations.destructive && !this.config.allowDestructive && !this.config.allow.has(def.name)) {
      const question = def.confirm?.(args as never) ?? `Run ${def.name}${targets ? ` on ${targets}` : ''}?`;
      const yes = info.confirm ? await info.confirm(question).catch(() => false) : undefined;
      if (yes !== true) {
        const why = yes === undefined ? `${def.name} is destructive and this client cannot ask the user to confirm (no elicitation); the operator can start mpop-mcp with --allow-destructive or --allow ${def.name}.` : `the user declined: ${question}`;
        entry('refused', 'refused', why);
        return { refused: { text: `Refused: ${why}`, isError: true } };
      }
      decision = 'confirmed';
    }
    const ac = new AbortController();
    let jobId: string | undefined;
    let reporting = true;
    const ctx = {
      home: this.config.home,
      pool: this.pool,
      inventory: () => this.inventory(),
      signal: ac.signal,
      client: info.client,
      progress: (p: ToolProgress) => {
        if (jobId) this.jobs.progress(jobId, p);
        if (reporting) info.progress(p);
      },
    };
    const work = def.run(args as never, ctx) as Promise<ToolResult<Record<string, unknown>>>;
    const finish = async ({ audit = true } = {}): Promise<Answer> => {
      try {
        const result = await work;
        const capped = capText(result.text, this.config.maxText);
        let text = capped.text;
        const structured: Record<string, unknown> = { ...result.data };
        if (capped.truncated) {
          const pages = jobId ?? this.jobs.keep(def.name, targets, result.text, result.data).id;
          text += `\n[truncated at ${this.config.maxText} bytes of ${Buffer.byteLength(result.text)}: mpop_job_output {"job": "${pages}", "offset": ${Buffer.byteLength(capped.text)}} reads the rest]`;
          structured.truncated = true;
          structured.jobId = pages;
        }
        if (audit) entry(decision, result.isError ? 'error' : 'ok', result.isError ? result.text : undefined);
        return { text, structured, isError: result.isError === true };
      } catch (err) {
        const { code, message } = errorInfo(err);
        const hint = HINTS[code] ?? '';
        if (audit) entry(decision, 'error', `${code}: ${message}`);
        return { text: `${code}: ${message}${hint ? `\n${hint}` : ''}`, isError: true };
      }
    };
    const toJob = (opts: { id?: string; reporting?: boolean } = {}): Job => {
      const job = this.jobs.start(def.name, targets, ac, work, opts.id);
      jobId = job.id;
      reporting = opts.reporting === true;
      entry(decision, 'job', job.id);
      return job;
    };
    return { ac, work, finish, toJob };
  }
}

/** Run is an admitted call whose work has started. */
interface Run {
  ac: AbortController;
  work: Promise<ToolResult<Record<string, unknown>>>;
  finish(opts?: { audit?: boolean }): Promise<Answer>;
  /** toJob hands the work to a job (with `id`, if given); progress goes on to the caller only if `reporting` */
  toJob(opts?: { id?: string; reporting?: boolean }): Job;
}

