import { Flags } from '@oclif/core';
import { MpopCommand, paint, table } from '../cli/base.js';
import { listServers, type ServerRow } from '../servers.js';

export default class Servers extends MpopCommand {
  static override summary = 'List the fleet: every node mpop can reach, where it is found, its groups and roles.';
  static override description =
    'Nodes come from vssh\'s nodes.json (machines outside a mesh) and the Wire mesh (the registry on the coordinator\'s ' +
    'machine, the cached peer list on a node); groups and roles from $MESHPOP_HOME/mpop/inventory.yaml and an Ansible ' +
    'inventory. Reads local state only: mpop status asks the nodes themselves.';
  static override examples = ['<%= config.bin %> servers', '<%= config.bin %> servers --group web', '<%= config.bin %> servers --json'];
  static override flags = {
    group: Flags.string({ char: 'g', description: 'only the nodes of this group or role' }),
    inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }),
  };

  async run(): Promise<{ nodes: ServerRow[] }> {
    const { flags } = await this.parse(Servers);
    const inv = await this.inventory(flags.inventory);
    let rows = await listServers(inv);
    if (flags.group) {
      const names = new Set(inv.resolve('@' + flags.group));
      rows = rows.filter((r) => names.has(r.name));
    }
    if (!this.jsonEnabled()) {
      if (!rows.length) this.log(`no nodes yet: add machines to ${this.home}/vssh/nodes.json, join them to a mesh (wire up --join), or mpop enroll NAME user@host.`);
      else {
        const c = paint(process.stdout);
        const state = (r: ServerRow): string => (r.wire ? (r.wire.status === 'online' ? c.green('online') : c.yellow(r.wire.status)) : '-');
        this.log(
          table(
            ['NODE', 'ADDRESS', 'VIA', 'WIRE', 'LAST SEEN', 'GROUPS', 'ROLES'],
            rows.map((r) => [c.bold(r.name), r.address, r.via, state(r), r.wire?.lastSeen ? ago(r.wire.lastSeen) : '-', r.groups.join(',') || '-', r.roles.join(',') || '-']),
          ),
        );
      }
    }
    return { nodes: rows };
  }
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}
