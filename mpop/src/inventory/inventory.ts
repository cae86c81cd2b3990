import { listNodes, type Address } from '@meshpop/vssh/client';
import { meshpopHome } from '@meshpop/vault/light';
import { MpopError } from '../errors.js';
import { mpopPaths } from '../paths.js';
import { lastRunSet } from '../runs.js';
import { readAnsibleInventory } from './ansible.js';
import { readInventoryFile } from './file.js';
import { closest, globRegExp, isGlob, naturalCompare } from './names.js';

/** FleetNode is one node mpop can reach: where vssh finds it, and the groups and roles it is in. */
export interface FleetNode {
  name: string;
  id: string;
  addresses: Address[];
  /** where the node is known from: vssh's nodes.json or the Wire mesh */
  source: 'static' | 'wire';
  groups: string[];
  roles: string[];
}

/** GroupInfo is one group: its members that are in the fleet, and the names it lists that are not. */
export interface GroupInfo {
  name: string;
  kind: 'group' | 'role' | 'ansible';
  members: string[];
  missing: string[];
}

/** InventoryOptions say where to read: the home, and an Ansible inventory beside the one inventory.yaml names. */
export interface InventoryOptions {
  home?: string;
  ansible?: string;
}

/** Inventory is the fleet as mpop sees it: nodes, groups and roles, and the target language over them. */
export class Inventory {
  readonly byName: Map<string, FleetNode>;

  constructor(readonly home: string, readonly nodes: FleetNode[], readonly groups: GroupInfo[]) {
    this.byName = new Map(nodes.map((n) => [n.name, n]));
  }

  /** names lists every node, in natural order. */
  get names(): string[] {
    return this.nodes.map((n) => n.name);
  }

  /**
   * resolve reads a target and returns the nodes it names, in natural order. A target is a comma list of
   * terms: a node name, a mesh IP, a glob (`web-*`), `@group` or `@role`, `all`, `@failed` / `@changed` /
   * `@ok` (the previous run's sets); `!term` removes, `&term` keeps only the nodes also in term. A term that
   * matches nothing is MPOP_NO_MATCH with the closest names.
   */
  resolve(target: string): string[] {
    const terms = target.split(',').map((t) => t.trim()).filter(Boolean);
    if (!terms.length) throw new MpopError('MPOP_USAGE', 'the target is empty: give a node, @group, a glob, a comma list or all');
    let set = new Set<string>();
    let first = true;
    for (const raw of terms) {
      const op = raw[0] === '!' || raw[0] === '&' ? raw[0] : '';
      const term = op ? raw.slice(1) : raw;
      const hit = this.#term(term);
      if (op === '!') {
        if (first) set = new Set(this.names); // "!web1" alone means everything but web1
        for (const n of hit) set.delete(n);
      } else if (op === '&') set = new Set([...set].filter((n) => hit.includes(n)));
      else for (const n of hit) set.add(n);
      first = false;
    }
    const out = [...set].sort(naturalCompare);
    if (!out.length) throw new MpopError('MPOP_NO_MATCH', `the target "${target}" leaves no node (every match was removed by ! or &).`);
    return out;
  }

  /** nodesOf returns the FleetNodes of a target. */
  nodesOf(target: string): FleetNode[] {
    return this.resolve(target).map((n) => this.byName.get(n)!);
  }

  #term(term: string): string[] {
    if (term === 'all' || term === '*') {
      if (!this.nodes.length) throw new MpopError('MPOP_NO_MATCH', `the fleet is empty: no node in ${this.home}/vssh/nodes.json and no Wire mesh here; enroll a node (mpop enroll) or join one (wire up --join).`);
      return this.names;
    }
    if (term.startsWith('@')) {
      const name = term.slice(1);
      if (name === 'failed' || name === 'changed' || name === 'ok') {
        const set = lastRunSet(mpopPaths(this.home).lastRun, name).filter((n) => this.byName.has(n));
        if (!set.length) throw new MpopError('MPOP_NO_MATCH', `@${name} is empty: the previous run had no ${name === 'ok' ? 'successful' : name} node.`);
        return set;
      }
      const groups = this.groups.filter((g) => g.name === name);
      if (!groups.length) {
        const near = closest(name, this.groups.map((g) => g.name)).map((g) => '@' + g);
        throw new MpopError('MPOP_NO_MATCH', `no group or role named "${name}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; mpop groups lists them.`);
      }
      const members = groups.flatMap((g) => g.members);
      if (!members.length) throw new MpopError('MPOP_NO_MATCH', `@${name} has no node that is in the fleet (it lists: ${groups.flatMap((g) => g.missing).join(', ') || 'nothing'}).`);
      return members;
    }
    if (isGlob(term)) {
      const re = globRegExp(term);
      const hit = this.names.filter((n) => re.test(n));
      if (!hit.length) throw this.#noMatch(term, `no node matches "${term}"`);
      return hit;
    }
    if (this.byName.has(term)) return [term];
    const byIp = this.nodes.find((n) => n.addresses.some((a) => a.host === term));
    if (byIp) return [byIp.name];
    throw this.#noMatch(term, `no node named "${term}"`);
  }

  #noMatch(term: string, what: string): MpopError {
    const near = closest(term.replace(/[*?[\]]/g, ''), [...this.names, ...this.groups.map((g) => '@' + g.name)]);
    const known = near.length ? ` (did you mean ${near.join(', ')}?)` : this.nodes.length ? ` (nodes: ${this.names.slice(0, 8).join(', ')}${this.nodes.length > 8 ? ', ...' : ''})` : ' (the fleet is empty)';
    return new MpopError('MPOP_NO_MATCH', `${what}${known}; mpop servers lists the fleet.`);
  }
}

/** loadInventory reads the fleet: vssh's nodes (nodes.json, then the Wire registry or peer cache), inventory.yaml, and an Ansible inventory. */
export async function loadInventory(opts: InventoryOptions = {}): Promise<Inventory> {
  const home = opts.home ?? meshpopHome();
  const file = readInventoryFile(mpopPaths(home).inventory);
  const targets = await listNodes(home);
  const names = targets.map((t) => t.name);
  const groups: GroupInfo[] = [];
  const addGroup = (name: string, kind: GroupInfo['kind'], listed: string[]): void => {
    const members = new Set<string>();
    const missing: string[] = [];
    for (const m of listed) {
      const hit = isGlob(m) ? names.filter((n) => globRegExp(m).test(n)) : names.includes(m) ? [m] : [];
      if (!hit.length) missing.push(m);
      for (const h of hit) members.add(h);
    }
    groups.push({ name, kind, members: [...members].sort(naturalCompare), missing });
  };
  for (const [g, members] of Object.entries(file.groups)) addGroup(g, 'group', members);
  const roleMembers = new Map<string, string[]>();
  for (const [node, roles] of Object.entries(file.roles)) for (const r of roles) roleMembers.set(r, [...(roleMembers.get(r) ?? []), node]);
  for (const [r, members] of roleMembers) addGroup(r, 'role', members);
  for (const src of [file.ansible, opts.ansible].filter((x): x is string => !!x)) {
    for (const [g, hosts] of readAnsibleInventory(src)) if (g !== 'all' && g !== 'ungrouped') addGroup(g, 'ansible', hosts);
  }
  const nodes: FleetNode[] = targets
    .map((t) => ({
      name: t.name,
      id: t.id,
      addresses: t.addresses,
      source: (t.addresses.some((a) => a.via === 'static') ? 'static' : 'wire') as FleetNode['source'],
      groups: [...new Set(groups.filter((g) => g.kind !== 'role' && g.members.includes(t.name)).map((g) => g.name))],
      roles: file.roles[t.name] ?? [],
    }))
    .sort((a, b) => naturalCompare(a.name, b.name));
  return new Inventory(home, nodes, groups);
}
