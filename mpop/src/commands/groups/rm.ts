import { Args } from '@oclif/core';
import { MpopError } from '../../errors.js';
import { MpopCommand } from '../../cli/base.js';
import { removeGroup } from '../../inventory/file.js';

export default class GroupsRm extends MpopCommand {
  static override summary = 'Remove a group from inventory.yaml.';
  static override examples = ['<%= config.bin %> groups rm web'];
  static override args = { group: Args.string({ required: true, description: 'the group to remove' }) };

  async run(): Promise<{ removed: string }> {
    const { args } = await this.parse(GroupsRm);
    if (!removeGroup(this.paths.inventory, args.group)) throw new MpopError('MPOP_NO_MATCH', `there is no group "${args.group}" in ${this.paths.inventory}; mpop groups lists them.`);
    if (!this.jsonEnabled()) this.log(`removed @${args.group}`);
    return { removed: args.group };
  }
}
