import { z } from 'zod';
import { setGroup } from '../../inventory/file.js';
import { mpopPaths } from '../../paths.js';
import { listServers } from '../../servers.js';
import { defineTool, LOCAL_READ } from '../tool.js';

const server = z.object({
  name: z.string(),
  source: z.enum(['static', 'wire']),
  address: z.string(),
  via: z.string(),
  groups: z.array(z.string()),
  roles: z.array(z.string()),
  wire: z.object({ status: z.string(), meshIp: z.string(), lastSeen: z.string().nullable(), endpoint: z.string().nullable() }).nullable(),
});

/** mpop_servers lists the fleet (local state only: fast, never touches a node). */
export const servers = defineTool({
  name: 'mpop_servers',
  title: 'List the fleet',
  description: 'Every node mpop can reach: its name, address, how it is found (nodes.json or the Wire mesh, with the mesh\'s online state and last sync), its groups and roles. Reads local state only; mpop_status asks the nodes. Start here to learn the node names and groups that other tools take as targets.',
  toolset: 'core',
  input: { group: z.string().optional().describe('only the nodes of this group or role (without the @)') },
  output: { nodes: z.array(server) },
  annotations: LOCAL_READ,
  async run({ group }, ctx) {
    const inv = await ctx.inventory();
    let rows = await listServers(inv);
    if (group) {
      const names = new Set(inv.resolve('@' + group.replace(/^@/, '')));
      rows = rows.filter((r) => names.has(r.name));
    }
    const text = rows.length
      ? rows.map((r) => `${r.name}  ${r.address} (${r.via})${r.wire ? `  ${r.wire.status}` : ''}${r.groups.length ? `  @${r.groups.join(' @')}` : ''}`).join('\n')
      : 'The fleet is empty: no node in nodes.json and no Wire mesh on this machine. Enroll one with mpop_enroll (inventory toolset).';
    return { data: { nodes: rows }, text };
  },
});

/** mpop_groups lists groups and roles. */
export const groups = defineTool({
  name: 'mpop_groups',
  title: 'List groups and roles',
  description: 'The groups (inventory.yaml and an Ansible inventory) and roles of the fleet, each with its members and the names it lists that are not in the fleet. Target a group or role as @name.',
  toolset: 'core',
  input: {},
  output: { groups: z.array(z.object({ name: z.string(), kind: z.enum(['group', 'role', 'ansible']), members: z.array(z.string()), missing: z.array(z.string()) })) },
  annotations: LOCAL_READ,
  async run(_args, ctx) {
    const inv = await ctx.inventory();
    return { data: { groups: inv.groups }, text: inv.groups.map((g) => `@${g.name} (${g.kind}): ${g.members.join(', ') || 'none in the fleet'}${g.missing.length ? `; not in the fleet: ${g.missing.join(', ')}` : ''}`).join('\n') || 'No groups yet (mpop_group_set makes one).' };
  },
});

/** mpop_group_set creates or replaces a group. */
export const groupSet = defineTool({
  name: 'mpop_group_set',
  title: 'Set a group',
  description: 'Create or replace a group in $MESHPOP_HOME/mpop/inventory.yaml (comments kept). Members are node names or globs such as web-*. Replacing a group changes what @name targets from then on.',
  toolset: 'inventory',
  input: {
    group: z.string().describe('the group name, targeted later as @group (letters, digits, . _ -)'),
    members: z.array(z.string()).min(1).describe('node names or globs'),
  },
  output: { group: z.string(), members: z.array(z.string()), missing: z.array(z.string()) },
  annotations: { readOnly: false, destructive: false, idempotent: true, openWorld: false },
  targets: ({ group }) => `@${group}`,
  async run({ group, members }, ctx) {
    setGroup(mpopPaths(ctx.home).inventory, group, members);
    const { loadInventory } = await import('../../inventory/inventory.js');
    const g = (await loadInventory({ home: ctx.home })).groups.find((x) => x.name === group && x.kind === 'group')!;
    return { data: { group, members: g.members, missing: g.missing }, text: `@${group}: ${g.members.join(', ') || 'no node of the fleet yet'}${g.missing.length ? ` (not in the fleet: ${g.missing.join(', ')})` : ''}` };
  },
});
