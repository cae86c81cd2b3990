import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type * as Zod from 'zod';
import { MpopError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';

/**
 * InventoryFile is `$MESHPOP_HOME/mpop/inventory.yaml`, written by hand or by `mpop groups set`:
 *
 *   groups:            # group -> node names or globs; target a group with @name
 *     web: [web1, web2, 'edge-*']
 *   roles:             # node -> roles; a role is targeted like a group (@name)
 *     g2: [gpu, trainer]
 *   ansible: ~/infra/hosts.ini   # optional: an Ansible inventory whose groups are read as well
 */
export interface InventoryFile {
  groups: Record<string, string[]>;
  roles: Record<string, string[]>;
  ansible?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MEMBER = /^[A-Za-z0-9*?[\]!._-]+$/;
const RESERVED = new Set(['all', 'failed', 'changed', 'ok', 'unreachable']);

// yaml and zod are loaded on first use: a fleet without inventory.yaml (and `mpop exec` on it) never pays for them.
const load = createRequire(import.meta.url);
let libs: { yaml: typeof Yaml; groupName: Zod.ZodType<string>; schema: Zod.ZodType<{ groups: Record<string, string[]>; roles: Record<string, string[]>; ansible?: string | undefined }> } | undefined;
function lib(): NonNullable<typeof libs> {
  if (libs) return libs;
  const { z } = load('zod') as typeof Zod;
  const groupName = z.string().regex(NAME, 'a group name is letters, digits, ".", "_" or "-", starting with a letter or digit').refine((n) => !RESERVED.has(n), 'this name is reserved (all, failed, changed, ok, unreachable)');
  const schema = z
    .object({
      groups: z.record(groupName, z.array(z.string().regex(MEMBER, 'a member is a node name or a glob such as web-*'))).default({}),
      roles: z.record(z.string().regex(NAME, 'a node name is letters, digits, ".", "_" or "-"'), z.array(groupName)).default({}),
      ansible: z.string().min(1).optional(),
    })
    .strict();
  libs = { yaml: load('yaml') as typeof Yaml, groupName, schema };
  return libs;
}

/** readInventoryFile reads and validates the file (empty when absent); a mistake is MPOP_BAD_INVENTORY naming the line. */
export function readInventoryFile(file: string): InventoryFile {
  if (!existsSync(file)) return { groups: {}, roles: {} };
  const text = readFileSync(file, 'utf8');
  const { yaml, schema } = lib();
  const doc = yaml.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new MpopError('MPOP_BAD_INVENTORY', `${file}${line ? `:${line}` : ''}: ${e.message.split('\n')[0]}; fix the YAML (groups: {name: [nodes]}, roles: {node: [roles]}).`);
  }
  const raw = doc.toJS() ?? {};
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String);
    const node = path.length ? doc.getIn(path, true) : undefined;
    const range = (node as { range?: [number, number] } | undefined)?.range;
    const line = range ? text.slice(0, range[0]).split('\n').length : undefined;
    const where = path.join('.') || 'the top level';
    const hint = issue.code === 'unrecognized_keys' ? ` (allowed: groups, roles, ansible)` : '';
    throw new MpopError('MPOP_BAD_INVENTORY', `${file}${line ? `:${line}` : ''}: ${where}: ${issue.message}${hint}`);
  }
  const data: InventoryFile = { groups: r.data.groups, roles: r.data.roles };
  if (r.data.ansible) data.ansible = expandPath(r.data.ansible, dirname(file));
  return data;
}

/** expandPath resolves ~ and paths relative to the inventory file's folder. */
function expandPath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}

/** setGroup writes `group: members` into the file, keeping its comments and the rest as they were. */
export function setGroup(file: string, group: string, members: string[]): void {
  const { yaml, groupName } = lib();
  const { isMap, isSeq, parseDocument } = yaml;
  const g = groupName.safeParse(group);
  if (!g.success) throw new MpopError('MPOP_USAGE', `"${group}" cannot be a group name: ${g.error.issues[0]!.message}`);
  const bad = members.find((m) => !MEMBER.test(m));
  if (bad !== undefined) throw new MpopError('MPOP_USAGE', `"${bad}" is not a node name or a glob`);
  readInventoryFile(file); // refuse to edit a file that is already broken
  const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : parseDocument('# mpop inventory: groups (@name) and roles of the fleet\ngroups: {}\n');
  if (!isMap(doc.get('groups', true))) doc.set('groups', doc.createNode({}));
  const seq = doc.createNode(members);
  if (isSeq(seq)) seq.flow = true;
  doc.setIn(['groups', group], seq);
  writeFileAtomic(file, doc.toString(), 0o644);
}

/** removeGroup deletes a group from the file; it says whether the group was there. */
export function removeGroup(file: string, group: string): boolean {
  if (!existsSync(file)) return false;
  readInventoryFile(file);
  const doc = lib().yaml.parseDocument(readFileSync(file, 'utf8'));
  if (!doc.hasIn(['groups', group])) return false;
  doc.deleteIn(['groups', group]);
  writeFileAtomic(file, doc.toString(), 0o644);
  return true;
}
