import { Flags } from '@oclif/core';
import { MpopCommand, paint, table } from '../../cli/base.js';
import type { GroupInfo } from '../../inventory/inventory.js';

export default class Groups extends MpopCommand {
  static override summary = 'List the groups and roles of the fleet, with their members.';
  static override description =
    'Groups (inventory.yaml\'s groups:, and the groups of an Ansible inventory) and roles (inventory.yaml\'s roles:) are ' +
    'targeted as @name. A member a group lists that is not in the fleet is shown as missing.';
  static override examples = ['<%= config.bin %> groups', '<%= config.bin %> groups set web web1 web2 \'edge-*\'', '<%= config.bin %> groups rm web'];
  static override flags = { inventory: Flags.string({ char: 'i', description: 'an Ansible inventory (INI or YAML) whose groups are read as well' }) };

  async run(): Promise<{ groups: GroupInfo[]; file: string }> {
    const { flags } = await this.parse(Groups);
    const inv = await this.inventory(flags.inventory);
    if (!this.jsonEnabled()) {
      if (!inv.groups.length) this.log(`no groups yet: mpop groups set NAME NODE... (or edit ${this.paths.inventory}).`);
      else {
        const c = paint(process.stdout);
        this.log(table(['GROUP', 'KIND', 'MEMBERS', 'NOT IN THE FLEET'], inv.groups.map((g) => [c.bold('@' + g.name), g.kind, g.members.join(',') || '-', g.missing.length ? c.yellow(g.missing.join(',')) : '-'])));
      }
    }
    return { groups: inv.groups, file: this.paths.inventory };
  }
}
