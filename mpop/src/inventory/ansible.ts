import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MpopError } from '../errors.js';

/** AnsibleGroups is what mpop takes from an Ansible inventory: group name -> host names (children folded in). */
export type AnsibleGroups = Map<string, string[]>;

/** expandHostRange expands Ansible's host ranges: `web[01:03]` -> web01 web02 web03, `db-[a:c]` -> db-a db-b db-c. */
export function expandHostRange(pattern: string): string[] {
  const m = /^(.*?)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/i.exec(pattern);
  if (!m) return [pattern];
  const [, pre, from, to, stepText, rest] = m as unknown as [string, string, string, string, string | undefined, string];
  const step = stepText ? Number(stepText) : 1;
  const out: string[] = [];
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const width = from.startsWith('0') ? from.length : 0;
    for (let i = Number(from); i <= Number(to) && out.length < 100_000; i += step) {
      for (const tail of expandHostRange(rest)) out.push(pre + (width ? String(i).padStart(width, '0') : String(i)) + tail);
    }
  } else if (from.length === 1 && to.length === 1) {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c += step) for (const tail of expandHostRange(rest)) out.push(pre + String.fromCharCode(c) + tail);
  } else return [pattern];
  return out;
}

/** parseAnsibleIni reads an INI inventory: [group] host lines, [group:children], and [group:vars] (ignored). */
export function parseAnsibleIni(text: string, file = 'inventory'): AnsibleGroups {
  const hosts = new Map<string, Set<string>>();
  const children = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, k: string, v: string): void => void (m.get(k) ?? m.set(k, new Set()).get(k)!).add(v);
  let section: { name: string; kind: 'hosts' | 'children' | 'vars' } = { name: 'ungrouped', kind: 'hosts' };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/\s[#;].*$/, '').trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const head = /^\[([^\]:]+)(?::(children|vars))?\]$/.exec(line);
    if (head) {
      section = { name: head[1]!.trim(), kind: (head[2] as 'children' | 'vars' | undefined) ?? 'hosts' };
      if (section.kind !== 'vars') hosts.get(section.name) ?? hosts.set(section.name, new Set());
      return;
    }
    if (line.startsWith('[')) throw new MpopError('MPOP_BAD_INVENTORY', `${file}:${i + 1}: "${line.slice(0, 60)}" is not a section header ([group], [group:children] or [group:vars])`);
    if (section.kind === 'vars') return;
    const name = line.split(/\s+/)[0]!;
    if (section.kind === 'children') add(children, section.name, name);
    else for (const h of expandHostRange(name)) add(hosts, section.name, h);
  });
  return fold(hosts, children, file);
}

/** parseAnsibleYaml reads a YAML inventory: all: {hosts, children: {group: {hosts, children}}}. */
export function parseAnsibleYaml(text: string, file = 'inventory'): AnsibleGroups {
  let doc: unknown;
  try {
    doc = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text); // loaded only for a YAML inventory
  } catch (err) {
    throw new MpopError('MPOP_BAD_INVENTORY', `${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const hosts = new Map<string, Set<string>>();
  const children = new Map<string, Set<string>>();
  const walk = (name: string, node: unknown, path: string): void => {
    hosts.get(name) ?? hosts.set(name, new Set());
    if (node === null || node === undefined) return;
    if (typeof node !== 'object' || Array.isArray(node)) throw new MpopError('MPOP_BAD_INVENTORY', `${file}: ${path} must be a mapping with hosts, children or vars`);
    const g = node as Record<string, unknown>;
    const h = g.hosts;
    if (h !== undefined && h !== null) {
      if (typeof h !== 'object' || Array.isArray(h)) throw new MpopError('MPOP_BAD_INVENTORY', `${file}: ${path}.hosts must be a mapping of host name -> vars`);
      for (const host of Object.keys(h)) for (const x of expandHostRange(host)) hosts.get(name)!.add(x);
    }
    const c = g.children;
    if (c !== undefined && c !== null) {
      if (typeof c !== 'object' || Array.isArray(c)) throw new MpopError('MPOP_BAD_INVENTORY', `${file}: ${path}.children must be a mapping of group name -> group`);
      for (const [child, body] of Object.entries(c)) {
        (children.get(name) ?? children.set(name, new Set()).get(name)!).add(child);
        walk(child, body, `${path}.children.${child}`);
      }
    }
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new MpopError('MPOP_BAD_INVENTORY', `${file}: an Ansible YAML inventory is a mapping of group name (usually "all") -> group`);
  for (const [name, body] of Object.entries(doc)) walk(name, body, name);
  return fold(hosts, children, file);
}

/** readAnsibleInventory reads an INI or YAML inventory file (YAML when it parses as a mapping, INI otherwise). */
export function readAnsibleInventory(file: string): AnsibleGroups {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MpopError('MPOP_BAD_INVENTORY', `cannot read the Ansible inventory ${file} (${(err as NodeJS.ErrnoException).code ?? err}); fix the path in inventory.yaml (ansible:) or --inventory.`, { cause: err });
  }
  const yamlish = /\.(ya?ml)$/i.test(file) || /^\s*(all|[\w-]+)\s*:\s*$/m.test(text.split(/\r?\n/).find((l) => l.trim() && !l.trim().startsWith('#')) ?? '');
  return yamlish ? parseAnsibleYaml(text, file) : parseAnsibleIni(text, file);
}

function fold(hosts: Map<string, Set<string>>, children: Map<string, Set<string>>, file: string): AnsibleGroups {
  const out: AnsibleGroups = new Map();
  const resolve = (g: string, seen: string[]): Set<string> => {
    if (seen.includes(g)) throw new MpopError('MPOP_BAD_INVENTORY', `${file}: groups ${[...seen, g].join(' -> ')} contain each other`);
    const all = new Set(hosts.get(g) ?? []);
    for (const c of children.get(g) ?? []) for (const h of resolve(c, [...seen, g])) all.add(h);
    return all;
  };
  for (const g of new Set([...hosts.keys(), ...children.keys()])) out.set(g, [...resolve(g, [])]);
  return out;
}
