import { randomBytes } from 'node:crypto';
import type { Pool } from '@meshpop/vssh/client';
import { errorInfo, MpopError } from '../errors.js';
import { readHealConfig } from '../heal/config.js';
import { healNode, selectChecks } from '../heal/run.js';
import { mpopPaths } from '../paths.js';
import { appendJsonLine } from '../jsonl.js';

/** ActionRequest is what the page asks for: restart a unit, or run a heal check with its fix. */
export type ActionRequest = { kind: 'restart'; node: string; unit: string } | { kind: 'heal'; node: string; check: string };

/** PendingAction is an action asked for and not yet confirmed: its id, what it will do, and until when it can be confirmed. */
export interface PendingAction {
  id: string;
  request: ActionRequest;
  summary: string;
  expires: number;
}

/** ActionResult is what a confirmed action did. */
export interface ActionResult {
  id: string;
  ok: boolean;
  summary: string;
  detail: string;
}

/** CONFIRM_TTL_MS is how long an asked-for action waits for its confirmation. */
export const CONFIRM_TTL_MS = 2 * 60_000;

const UNIT = /^[A-Za-z0-9:_.@-]{1,200}$/;

/** parseAction checks an action request from the page; anything else is MPOP_USAGE saying what was wrong. */
export function parseAction(body: unknown, nodes: Set<string>): ActionRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.node !== 'string' || !nodes.has(b.node)) throw new MpopError('MPOP_USAGE', `"node" must name a node of the fleet (got ${JSON.stringify(b.node)?.slice(0, 80)})`);
  if (b.kind === 'restart') {
    if (typeof b.unit !== 'string' || !UNIT.test(b.unit) || b.unit.startsWith('-')) throw new MpopError('MPOP_USAGE', `"unit" must be a systemd unit name such as nginx.service (got ${JSON.stringify(b.unit)?.slice(0, 80)})`);
    return { kind: 'restart', node: b.node, unit: b.unit };
  }
  if (b.kind === 'heal') {
    if (typeof b.check !== 'string') throw new MpopError('MPOP_USAGE', '"check" must name a heal check');
    selectChecks([b.check]);
    return { kind: 'heal', node: b.node, check: b.check };
  }
  throw new MpopError('MPOP_USAGE', `"kind" must be restart or heal (got ${JSON.stringify(b.kind)?.slice(0, 40)})`);
}

/**
 * Actions runs the page's state-changing requests in two steps: ask() only records what would be done and
 * returns an id; confirm(id) does it once, within CONFIRM_TTL_MS, and appends it to the dashboard's audit log
 * (a heal fix also lands in mpop's own audit log, as `mpop heal --fix` writes it).
 */
export class Actions {
  readonly #pending = new Map<string, PendingAction>();

  constructor(private readonly pool: Pool, private readonly home: string, private readonly auditFile: string) {}

  ask(request: ActionRequest, now = Date.now()): PendingAction {
    for (const [id, p] of this.#pending) if (p.expires < now) this.#pending.delete(id);
    const summary = request.kind === 'restart' ? `restart ${request.unit} on ${request.node}` : `run the ${request.check} check on ${request.node} and its fix if it finds a problem`;
    const p: PendingAction = { id: randomBytes(12).toString('base64url'), request, summary, expires: now + CONFIRM_TTL_MS };
    this.#pending.set(p.id, p);
    return p;
  }

  async confirm(id: string, session: string, now = Date.now()): Promise<ActionResult> {
    const p = this.#pending.get(id);
    if (!p || p.expires < now) throw new MpopError('MPOP_USAGE', 'no such action waiting for confirmation (it expired, or was already done): ask again');
    this.#pending.delete(id);
    let ok = false;
    let detail: string;
    try {
      const client = await this.pool.client(p.request.node);
      if (p.request.kind === 'restart') {
        const r = await client.exec({ argv: ['systemctl', 'restart', '--', p.request.unit] }, { timeoutMs: 60_000, maxOutputBytes: 64 * 1024 });
        ok = r.exitCode === 0;
        detail = ok ? 'restarted' : `systemctl exited ${r.exitCode}: ${r.stderr.toString('utf8').trim().slice(0, 300)}`;
      } else {
        const paths = mpopPaths(this.home);
        const h = await healNode(p.request.node, client, AbortSignal.timeout(120_000), { config: readHealConfig(paths.healConfig), audit: paths.audit, fix: true, checks: [p.request.check] });
        const c = h.checks[0]!;
        ok = c.fix ? c.fix.result === 'fixed' : c.status !== 'problem';
        detail = c.fix ? `${c.fix.action}: ${c.fix.result} (${c.fix.after?.diagnosis ?? c.diagnosis})` : `${c.status}: ${c.diagnosis}`;
      }
    } catch (err) {
      detail = `failed: ${errorInfo(err).message}`;
    }
    appendJsonLine(this.auditFile, { time: new Date().toISOString(), via: 'dashboard', session: session.slice(0, 8), action: p.request, summary: p.summary, ok, detail });
    return { id, ok, summary: p.summary, detail };
  }
}

