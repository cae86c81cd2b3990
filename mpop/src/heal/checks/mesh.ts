import type { FixOutcome, HealCheck, HealContext } from '../check.js';
import { unknown } from '../check.js';
import { firstLine } from '../remote.js';

/** WirePeer and WireStatus are the parts of `wire status --json` this check reads. */
interface WirePeer {
  name: string;
  meshIp?: string;
  lastHandshake: number | null;
  path: string;
}
interface WireStatus {
  role: 'node' | 'coordinator';
  name: string;
  up: boolean;
  peers: WirePeer[];
  removed: string | null;
}

/** StalePeer is a peer with no handshake within thresholds.peerStale, or not on the interface at all. */
export interface StalePeer {
  name: string;
  meshIp?: string;
  lastHandshake: string | null;
  path: string;
}

/** readWire runs `wire status --json` on the node: its status, or why it cannot be had. */
async function readWire(ctx: HealContext): Promise<WireStatus | { why: string }> {
  const r = await ctx.run(['wire', 'status', '--json'], { timeoutMs: 30_000 });
  if (r === 'missing') return { why: `\`wire\` is not on ${ctx.node}'s PATH (as vssh's daemon sees it): either ${ctx.node} is not a mesh node, or @meshpop/wire is installed where the daemon does not look` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    return { why: `\`wire status --json\` on ${ctx.node} exited ${r.exitCode} without JSON${r.stderr ? `: ${firstLine(r.stderr)}` : ''}` };
  }
  const err = (parsed as { error?: { code?: string; message?: string } }).error;
  if (err) return { why: `${ctx.node}: ${err.code === 'WIRE_NOT_JOINED' ? 'not in a mesh' : (err.code ?? 'wire failed')}: ${err.message ?? ''}`.trim() };
  const s = parsed as Partial<WireStatus>;
  if (!Array.isArray(s.peers) || typeof s.up !== 'boolean') return { why: `\`wire status --json\` on ${ctx.node} printed what this mpop cannot read (a different wire version?)` };
  return s as WireStatus;
}

/** stalePeers picks the peers whose last handshake (by the node's clock) is older than `staleMs`, or that are not configured. */
export function stalePeers(s: WireStatus, nodeNowMs: number, staleMs: number): StalePeer[] {
  return s.peers
    .filter((p) => p.path === 'not configured' || p.path.startsWith('no path') || p.lastHandshake === null || nodeNowMs - p.lastHandshake > staleMs)
    .map((p) => ({ name: p.name, ...(p.meshIp ? { meshIp: p.meshIp } : {}), lastHandshake: p.lastHandshake === null ? null : new Date(p.lastHandshake).toISOString(), path: p.path }));
}

/**
 * answers pings `peer` once from the node over the mesh. WireGuard hands shake only when traffic flows (wire
 * keeps a keepalive only behind NAT), so an idle direct peer has no recent handshake and is not broken: a ping
 * makes the handshake and tells the two apart. `null` when the node cannot ping (no ping, no address).
 */
async function answers(ctx: HealContext, peer: StalePeer): Promise<boolean | null> {
  if (!peer.meshIp || peer.path === 'not configured') return peer.meshIp ? false : null;
  const r = await ctx.run(['ping', '-n', '-q', '-c', '1', '-W', '3', peer.meshIp], { timeoutMs: 10_000 });
  if (r === 'missing') return null;
  return r.exitCode === 0;
}

/** mesh: the node's WireGuard peers (through the node's own `wire status`); a stale one is a problem; the fix restarts wire's service, whose watchdog re-syncs and re-resolves. */
export const mesh: HealCheck = {
  name: 'mesh',
  describe: 'mesh: a Wire peer with no recent handshake',
  fixes: 'systemctl restart of wire\'s service (wire-up, or wire-serve on the coordinator), whose watchdog re-syncs the peers',
  async run(ctx) {
    const s = await readWire(ctx);
    if ('why' in s) return unknown(s.why);
    const evidence: Record<string, unknown> = { role: s.role, up: s.up, peers: s.peers.length };
    if (s.removed) return { status: 'problem', diagnosis: `the coordinator removed ${ctx.node} from the mesh (${s.removed}): join it again with a new token (wire up --join)`, evidence };
    if (!s.up) return { status: 'problem', diagnosis: `${ctx.node}'s mesh interface is down`, evidence };
    const info = await ctx.info();
    const quiet = stalePeers(s, Date.parse(info.time), ctx.config.thresholds.peerStaleMs);
    const probed = await Promise.all(quiet.map(async (p) => ({ p, answered: await answers(ctx, p) })));
    const idle = probed.filter((x) => x.answered === true).map((x) => x.p.name);
    const stale = probed.filter((x) => x.answered !== true).map((x) => x.p);
    evidence.stale = stale;
    if (idle.length) evidence.idle = idle;
    if (!stale.length && idle.length) return { status: 'ok', diagnosis: `${s.peers.length} peer(s) reachable; ${idle.join(', ')} had no recent handshake (idle) and answered a ping over the mesh`, evidence };
    if (!stale.length) return { status: 'ok', diagnosis: `${s.peers.length} peer(s), every one with a handshake in the last ${Math.round(ctx.config.thresholds.peerStaleMs / 1000)} s`, evidence };
    const unprobed = probed.some((x) => x.answered === null) ? ' (ping is not on the node, so idle peers could not be told from broken ones)' : ' and no answer to a ping over the mesh';
    return { status: 'problem', diagnosis: `stale peer(s): ${stale.map((p) => `${p.name} (${p.lastHandshake ? `last handshake ${p.lastHandshake}` : 'no handshake'}, ${p.path})`).join(', ')}${unprobed}`, evidence };
  },
  async fix(ctx, found): Promise<FixOutcome> {
    const unit = found.evidence.role === 'coordinator' ? 'wire-serve' : 'wire-up';
    if ((await ctx.info()).failedUnits === null) return { action: 'none', ok: false, notRun: true, detail: `no systemd on ${ctx.node}: restart \`wire ${unit === 'wire-up' ? 'up' : 'serve'}\` there by hand (its watchdog re-syncs the peers when it starts)` };
    const r = await ctx.run(['systemctl', 'restart', unit], { timeoutMs: 120_000 });
    if (r === 'missing') return { action: `systemctl restart ${unit}`, ok: false, detail: 'systemctl is not installed' };
    return { action: `systemctl restart ${unit}`, ok: r.exitCode === 0, detail: r.exitCode === 0 ? `restarted ${unit} (re-sync with the coordinator, watchdog restarted)` : `exited ${r.exitCode}: ${firstLine(r.stderr)}`, steps: [{ command: `systemctl restart ${unit}`, exitCode: r.exitCode }] };
  },
};
