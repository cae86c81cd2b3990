import { MpopCommand, paint, table } from '../../cli/base.js';
import { listSecrets } from '../../secret/vault.js';
import type { SecretInfo } from '@meshpop/vault';

export default class SecretList extends MpopCommand {
  static override summary = 'List the secrets of the controller\'s vault: names, versions, dates; never values.';
  static override description = 'Opens the vault through its unlock agent (sv unlock), SV_PASSWORD_FILE or SV_KEY_FILE. Exit code 10 when the vault is locked or damaged.';
  static override examples = ['<%= config.bin %> secret list', '<%= config.bin %> secret list --json'];

  async run(): Promise<{ secrets: SecretInfo[] }> {
    await this.parse(SecretList);
    const secrets = await listSecrets(this.home);
    if (!this.jsonEnabled()) {
      const c = paint(process.stdout);
      if (!secrets.length) this.log('the vault holds no secrets yet: mpop secret set NAME < value-file');
      else this.log(table(['NAME', 'VERSION', 'CATEGORY', 'TAGS', 'UPDATED'], secrets.map((s) => [c.bold(s.name), String(s.version), s.category, s.tags.join(',') || '-', s.updated.replace(/\.\d+Z$/, 'Z')])));
    }
    return { secrets };
  }
}
