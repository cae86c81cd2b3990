import { Args } from '@oclif/core';
import { MpopCommand } from '../../cli/base.js';
import { setGroup } from '../../inventory/file.js';
import { loadInventory } from '../../inventory/inventory.js';

export default class GroupsSet extends MpopCommand {
  static override summary = 'Create or replace a group in inventory.yaml (its comments and the rest are kept).';
  static override examples = ['<%= config.bin %> groups set web web1 web2', '<%= config.bin %> groups set edge \'edge-*\''];
  static override strict = false;
  static override args = {
    group: Args.string({ required: true, description: 'the group name (target it as @name)' }),
    members: Args.string({ required: true, description: 'node names or globs' }),
  };

  async run(): Promise<{ group: string; members: string[]; missing: string[] }> {
    const { args, argv } = await this.parse(GroupsSet);
    const members = (argv as string[]).slice(1);
    setGroup(this.paths.inventory, args.group, members);
    const g = (await loadInventory({ home: this.home })).groups.find((x) => x.name === args.group && x.kind === 'group')!;
    if (!this.jsonEnabled()) {
      this.log(`@${args.group}: ${g.members.join(', ') || 'no node of the fleet yet'}`);
      if (g.missing.length) this.warn(`not in the fleet (yet): ${g.missing.join(', ')}`);
    }
    return { group: args.group, members: g.members, missing: g.missing };
  }
}
