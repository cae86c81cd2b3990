import { Flags } from '@oclif/core';
import { VaultCommand } from '../cli/base.js';
import { SecretInfo } from '../types.js';

export default class List extends VaultCommand {
  static override summary = 'List secrets: names, categories, tags and dates, never values.';
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list --category vssh --json'];
  static override flags = {
    category: Flags.string({ description: 'only this category' }),
    tag: Flags.string({ description: 'only secrets with this tag' }),
  };

  async run(): Promise<SecretInfo[]> {
    const { flags } = await this.parse(List);
    const vault = await this.vault();
    let items: SecretInfo[];
    try {
      items = (await vault.list()).filter((s) => (!flags.category || s.category === flags.category) && (!flags.tag || s.tags.includes(flags.tag)));
    } finally {
      await vault.close();
    }
    if (items.length === 0) {
      this.log('No secrets.');
      return items;
    }
    const rows = [['NAME', 'CATEGORY', 'TAGS', 'VERSION', 'UPDATED'], ...items.map((s) => [s.name, s.category, s.tags.join(','), String(s.version), s.updated.slice(0, 19).replace('T', ' ')])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) this.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    return items;
  }
}
