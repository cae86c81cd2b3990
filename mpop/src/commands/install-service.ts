import { Args, Flags } from '@oclif/core';
import { MpopCommand } from '../cli/base.js';
import { installMonitorService, type InstalledService } from '../monitor/service.js';

export default class InstallService extends MpopCommand {
  static override summary = 'Write a systemd unit that runs `mpop monitor` as a service.';
  static override description =
    'Writes mpop-monitor.service (into --dir, /etc/systemd/system by default) running mpop monitor with MESHPOP_HOME ' +
    '(--home, default this one) and a way to unlock the vault for the vssh key (--vault-key-file or ' +
    '--vault-password-file; without them the vault agent must be running). It starts nothing: it prints the systemctl ' +
    'commands to run, or, on a machine without systemd, the command line to run by other means.';
  static override examples = [
    '<%= config.bin %> install-service monitor --vault-key-file /var/lib/meshpop/vault.key',
    '<%= config.bin %> install-service monitor --interval 1m --dir /tmp/units',
  ];
  static override args = { service: Args.string({ required: true, options: ['monitor'], description: 'which service (monitor)' }) };
  static override flags = {
    interval: Flags.string({ description: 'between two rounds', default: '30s' }),
    target: Flags.string({ description: 'the nodes to monitor (default all)' }),
    retention: Flags.string({ description: 'the monitor\'s --retention' }),
    downsample: Flags.string({ multiple: true, description: 'the monitor\'s --downsample' }),
    home: Flags.string({ description: 'MESHPOP_HOME for the service (default this one)' }),
    'vault-key-file': Flags.string({ description: 'key file that unlocks the vault (SV_KEY_FILE)', exclusive: ['vault-password-file'] }),
    'vault-password-file': Flags.string({ description: 'password file that unlocks the vault (SV_PASSWORD_FILE)' }),
    dir: Flags.string({ description: 'where to write the unit', default: '/etc/systemd/system' }),
  };

  async run(): Promise<InstalledService> {
    const { flags } = await this.parse(InstallService);
    const r = installMonitorService(flags.dir, {
      home: flags.home ?? this.home,
      interval: flags.interval,
      ...(flags.target ? { target: flags.target } : {}),
      ...(flags.retention ? { retention: flags.retention } : {}),
      ...(flags.downsample ? { downsample: flags.downsample } : {}),
      ...(flags['vault-key-file'] ? { vaultKeyFile: flags['vault-key-file'] } : {}),
      ...(flags['vault-password-file'] ? { vaultPasswordFile: flags['vault-password-file'] } : {}),
    });
    this.log(`Wrote ${r.path}`);
    this.log(r.systemd ? `now: ${r.next}` : r.next);
    return r;
  }
}
