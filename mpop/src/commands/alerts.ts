import { Flags } from '@oclif/core';
import { MpopCommand, paint, table } from '../cli/base.js';
import { listAlerts, type Alert } from '../monitor/alerts.js';
import { openMonitorDb } from '../monitor/db.js';

export default class Alerts extends MpopCommand {
  static override summary = 'List the monitor\'s firing alerts (--all: with the resolved ones, as history).';
  static override description =
    'mpop monitor raises an alert when a threshold is crossed (disk above 90%, memory available below 10%, load1 above ' +
    '2 x cores for 3 samples, a node unreachable for 2 rounds; set them in heal.yaml under monitor.alerts) and resolves it ' +
    'when the condition clears. Exit code: 0 when nothing fires, 1 when something does.';
  static override examples = ['<%= config.bin %> alerts', '<%= config.bin %> alerts --all', '<%= config.bin %> alerts --node n1 --json'];
  static override flags = {
    all: Flags.boolean({ char: 'a', description: 'resolved alerts too' }),
    node: Flags.string({ char: 'n', description: 'only this node\'s' }),
  };

  async run(): Promise<{ alerts: Alert[]; firing: number }> {
    const { flags } = await this.parse(Alerts);
    const db = openMonitorDb(this.paths.monitorDb);
    let alerts: Alert[];
    try {
      alerts = listAlerts(db, { all: flags.all, ...(flags.node ? { node: flags.node } : {}) });
    } finally {
      db.close();
    }
    const firing = alerts.filter((a) => a.firing).length;
    if (!this.jsonEnabled()) {
      const c = paint(process.stdout);
      if (!alerts.length) this.log(flags.all ? 'no alerts, ever' : 'no alerts firing');
      else
        this.log(table(
          ['STATE', 'NODE', 'RULE', 'VALUE', 'SINCE', 'RESOLVED', 'MESSAGE'],
          alerts.map((a) => [a.firing ? c.red('firing') : c.green('resolved'), a.node, a.rule + (a.subject ? ` ${a.subject}` : ''), a.value === null ? '-' : String(a.value), a.since.slice(0, 19).replace('T', ' '), a.resolvedAt ? a.resolvedAt.slice(0, 19).replace('T', ' ') : '-', a.message]),
        ));
    }
    if (firing) process.exitCode = 1;
    return { alerts, firing };
  }
}
