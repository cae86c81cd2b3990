import { LocalVault, openVault, startAgent, vaultStatus, type Vault } from '@meshpop/vault';
import { controllerMaster, type Pool } from '@meshpop/vssh';
import { MpopError } from '../errors.js';
import { fanout, type FanoutOptions, type FanoutResult } from '../fanout/run.js';
import type { FleetNode } from '../inventory/inventory.js';
import { mpopPaths } from '../paths.js';
import { auditSecret } from './audit.js';
import { openShare, sealShare, shareKeyId } from './envelope.js';
import { readShare, shareFileName, storeShare } from './remote.js';

/** DistributeOptions: the vault's home, k (default: a majority of the nodes, at least 2), and the fan-out's. */
export interface DistributeOptions extends FanoutOptions {
  home: string;
  threshold?: number;
  /** an open vault to split (default: openVault for `home`) */
  vault?: Vault;
}

/** DistributeResult says which nodes hold a share now, and how many of them rebuild the key. */
export interface DistributeResult {
  vault: string;
  keyId: string;
  threshold: number;
  count: number;
  run: FanoutResult<{ path: string }>;
  /** the nodes that hold a share */
  stored: string[];
}

/** defaultThreshold is a majority of n, at least 2. */
export const defaultThreshold = (n: number): number => Math.max(2, Math.floor(n / 2) + 1);

async function vaultId(home: string): Promise<string> {
  const st = await vaultStatus(home);
  if (!st.initialized || !st.id) throw new MpopError('MPOP_SECRET', `no vault at ${st.store}: create it with sv init`);
  if (st.damaged) throw new MpopError('MPOP_SECRET', `the vault at ${st.store} is damaged: ${st.damaged}`);
  return st.id;
}

/**
 * distributeShares splits the controller's vault master key into one Shamir share per node (any `threshold`
 * rebuild it), seals each for its node (envelope.ts) and stores it there over vssh. Every node is asked
 * first: an unreachable one stops the run before any split (a share it could not take would be lost).
 * Audited in $MESHPOP_HOME/mpop/audit.jsonl with the nodes, never a share.
 */
export async function distributeShares(pool: Pool, nodes: FleetNode[], opts: DistributeOptions): Promise<DistributeResult> {
  const n = nodes.length;
  if (n < 2) throw new MpopError('MPOP_USAGE', `shares need at least 2 nodes; the target has ${n}`);
  const k = opts.threshold ?? defaultThreshold(n);
  if (!Number.isInteger(k) || k < 2 || k > n) throw new MpopError('MPOP_USAGE', `--threshold ${k} must be from 2 to the number of nodes (${n})`);
  const vault = await vaultId(opts.home);
  const names = nodes.map((x) => x.name);
  const reach = await fanout(pool, names, async ({ client }) => client.ping(), { ...opts, stopOnError: false });
  const down = reach.results.filter((r) => r.outcome !== 'ok');
  if (down.length) {
    throw new MpopError('MPOP_SHARES', `every node must take its share, and ${down.map((r) => `${r.node} (${r.error?.message ?? r.outcome})`).join(', ')} cannot be reached; nothing was split. Bring it back or leave it out of the target.`);
  }
  const v = opts.vault ?? (await openVault({ home: opts.home }));
  const audit = mpopPaths(opts.home).audit;
  try {
    const { master } = await controllerMaster(v);
    const shares = await v.split(n, k);
    const keyId = shareKeyId(shares[0]!);
    const created = new Date().toISOString();
    const byName = new Map(nodes.map((x, i) => [x.name, { node: x, share: shares[i]! }]));
    const run = await fanout<{ path: string }>(
      pool,
      names,
      async ({ node, client, signal }) => {
        const { node: fn, share } = byName.get(node)!;
        const env = await sealShare(master, { vault, keyId, node, nodeId: fn.id, threshold: k, count: n, created }, share);
        return { path: await storeShare(client, shareFileName(vault, node), JSON.stringify(env), signal) };
      },
      { ...opts, judge: () => ({ outcome: 'ok', changed: true }) },
    );
    shares.fill('');
    const stored = run.results.filter((r) => r.outcome === 'ok').map((r) => r.node);
    const failed = run.results.filter((r) => r.outcome !== 'ok').map((r) => r.node);
    auditSecret(audit, { command: 'secret shares distribute', ok: failed.length === 0, nodes: stored, ...(failed.length ? { failed } : {}), threshold: k, vault, keyId });
    return { vault, keyId, threshold: k, count: n, run, stored };
  } catch (err) {
    auditSecret(audit, { command: 'secret shares distribute', ok: false, nodes: names, threshold: k, vault, detail: (err as Error).message.slice(0, 200) });
    throw err;
  } finally {
    if (!opts.vault) await v.close();
  }
}

/** CollectAction is what collect does with the rebuilt key: check it only, unlock the vault (agent), or set a new password. */
export type CollectAction = { kind: 'check' } | { kind: 'unlock'; idleMs?: number } | { kind: 'new-password'; password: string };

/** CollectOptions: the vault's home, the vssh master (needed to reach the nodes and open their envelopes), the action. */
export interface CollectOptions extends FanoutOptions {
  home: string;
  master: Uint8Array;
  action: CollectAction;
}

/** CollectedShare is one node's part: the share it gave (never shown), or why it gave none. */
export interface CollectValue {
  share: string;
  keyId: string;
  threshold: number;
  /** how many shares the split made */
  count: number;
  path: string;
  mode: string;
}

/** CollectResult says which nodes gave good shares, which were used, what was done, and warnings (a share file others can read). */
export interface CollectResult {
  vault: string;
  threshold: number;
  found: number;
  used: string[];
  action: CollectAction['kind'];
  agentPid?: number;
  warnings: string[];
  run: FanoutResult<Omit<CollectValue, 'share'>>;
}

/** subsets lists the k-element subsets of items, in order (few: n is the fleet's share nodes). */
function* subsets<T>(items: T[], k: number, start = 0, acc: T[] = []): Generator<T[]> {
  if (acc.length === k) return yield [...acc];
  for (let i = start; i <= items.length - (k - acc.length); i++) yield* subsets(items, k, i + 1, [...acc, items[i]!]);
}

/**
 * collectShares fetches each node's share over vssh, opens its envelope (a share altered, moved or of another
 * vault is refused, naming the node), and rebuilds the master key from `threshold` of them: the vault checks the
 * rebuilt key against its key id, so a bad share never yields a garbage key. Fewer good shares than needed is
 * MPOP_SHARES saying how many were found and needed, and why each missing one is missing. Then it checks only,
 * unlocks the vault (starts its agent), or sets a new password. Audited (nodes, never shares).
 */
export async function collectShares(pool: Pool, nodes: FleetNode[], opts: CollectOptions): Promise<CollectResult> {
  const vault = await vaultId(opts.home);
  const audit = mpopPaths(opts.home).audit;
  const byName = new Map(nodes.map((x) => [x.name, x]));
  const run = await fanout<CollectValue>(pool, nodes.map((x) => x.name), async ({ node, client, signal }) => {
    const got = await readShare(client, shareFileName(vault, node), signal);
    const fn = byName.get(node)!;
    const { share, envelope } = await openShare(opts.master, got.text, { vault, node, nodeId: fn.id });
    return { share, keyId: envelope.keyId, threshold: envelope.threshold, count: envelope.count, path: got.path, mode: got.mode };
  }, opts);
  const good = run.results.filter((r) => r.outcome === 'ok' && r.value);
  const warnings = good.filter((r) => r.value!.mode !== '600' && r.value!.mode !== '400').map((r) => `the share file on ${r.node} (${r.value!.path}) has mode ${r.value!.mode}: other local users may read it (chmod 600)`);
  const publicRun = { ...run, results: run.results.map(({ value, ...r }) => (value ? { ...r, value: { keyId: value.keyId, threshold: value.threshold, count: value.count, path: value.path, mode: value.mode } } : r)) };
  // The newest key's shares: group by key id and take the largest group (a share left from before an sv rekey is of an older key).
  const groups = new Map<string, typeof good>();
  for (const r of good) groups.set(r.value!.keyId, [...(groups.get(r.value!.keyId) ?? []), r]);
  const group = [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  const threshold = group[0]?.value!.threshold ?? good[0]?.value?.threshold ?? 0;
  const missing = run.results.filter((r) => !group.includes(r)).map((r) => `${r.node}: ${r.error?.message ?? (r.value ? `a share of another master key (${r.value.keyId})` : r.outcome)}`);
  const fail = (message: string): never => {
    auditSecret(audit, { command: 'secret shares collect', ok: false, nodes: group.map((r) => r.node), failed: run.results.filter((r) => !group.includes(r)).map((r) => r.node), vault, action: opts.action.kind, detail: message.slice(0, 300) });
    throw new MpopError('MPOP_SHARES', message);
  };
  if (!group.length) fail(`no good share found on ${nodes.length} node${nodes.length === 1 ? '' : 's'}; ${missing.join('; ')}`);
  const count = group[0]?.value!.count ?? 0;
  if (group.length < threshold) {
    const more = missing.length ? missing.join('; ') : `the shares went to ${count} nodes: add more of them to the target`;
    fail(`${group.length} good share${group.length === 1 ? '' : 's'} found, ${threshold} needed to rebuild the key; ${more}`);
  }
  let opened: { vault: LocalVault; used: string[] } | undefined;
  let lastErr: unknown;
  let tries = 0;
  for (const set of subsets(group, threshold)) {
    if (++tries > 200) break;
    try {
      opened = { vault: await LocalVault.unlock({ shares: set.map((r) => r.value!.share) }, { home: opts.home }), used: set.map((r) => r.node) };
      break;
    } catch (err) {
      lastErr = err;
    }
  }
  for (const r of good) r.value!.share = '';
  if (!opened) fail(`the shares of ${group.map((r) => r.node).join(', ')} do not rebuild this vault's key (${(lastErr as Error)?.message ?? 'no combination held'})`);
  const { vault: local, used } = opened!;
  try {
    let agentPid: number | undefined;
    if (opts.action.kind === 'unlock') {
      agentPid = await startAgent(local, opts.action.idleMs);
      await local.note('recover', undefined, `mpop secret shares collect from ${used.join(',')}: unlocked, agent pid ${agentPid}`);
    } else if (opts.action.kind === 'new-password') {
      await local.changePassword(opts.action.password);
    }
    auditSecret(audit, { command: 'secret shares collect', ok: true, nodes: used, vault, threshold, action: opts.action.kind, ...(missing.length ? { failed: run.results.filter((r) => !group.includes(r)).map((r) => r.node) } : {}) });
    return { vault, threshold, found: group.length, used, action: opts.action.kind, ...(agentPid ? { agentPid } : {}), warnings: [...warnings, ...missing], run: publicRun };
  } finally {
    await local.close();
  }
}
