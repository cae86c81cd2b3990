import { Flags } from '@oclif/core';
import { fileURLToPath } from 'node:url';
import { WireCommand } from '../cli/base.js';
import { WireError } from '../errors.js';
import { writeServiceUnit } from '../service.js';

export default class InstallService extends WireCommand {
  static override summary = 'Write a systemd unit for `wire serve` (coordinator) or `wire up` (node).';
  static override description =
    'The unit runs with MESHPOP_HOME (default /var/lib/meshpop) and opens the vault with --vault-key-file (SV_KEY_FILE) ' +
    'or --vault-password-file (SV_PASSWORD_FILE), since a service has no one to type a password. Then: ' +
    'systemctl daemon-reload && systemctl enable --now wire-up (or wire-serve).';
  static override examples = [
    '<%= config.bin %> install-service --role node --vault-key-file /var/lib/meshpop/vault.key',
    '<%= config.bin %> install-service --role coordinator --endpoint 203.0.113.7 --vault-key-file /var/lib/meshpop/vault.key',
  ];
  static override flags = {
    role: Flags.string({ description: 'what this machine runs', options: ['node', 'coordinator'], required: true }),
    endpoint: Flags.string({ description: 'coordinator only: its public address' }),
    home: Flags.string({ description: 'MESHPOP_HOME for the service', default: '/var/lib/meshpop' }),
    'vault-key-file': Flags.string({ description: 'key file that unlocks the vault (SV_KEY_FILE)' }),
    'vault-password-file': Flags.string({ description: 'password file that unlocks the vault (SV_PASSWORD_FILE)' }),
    dir: Flags.string({ description: 'where to write the unit', default: '/etc/systemd/system' }),
  };

  async run(): Promise<{ unit: string; path: string }> {
    const { flags } = await this.parse(InstallService);
    if (flags.role === 'coordinator' && !flags.endpoint) throw new WireError('WIRE_BAD_INPUT', 'a coordinator unit needs --endpoint (its public address).');
    if (!flags['vault-key-file'] && !flags['vault-password-file']) {
      throw new WireError('WIRE_BAD_INPUT', 'a service cannot type a password: pass --vault-key-file or --vault-password-file.');
    }
    const bin = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
    const unit = flags.role === 'coordinator' ? 'wire-serve' : 'wire-up';
    const exec = flags.role === 'coordinator' ? `serve --endpoint ${flags.endpoint}` : 'up';
    const path = writeServiceUnit(flags.dir, {
      name: unit,
      description: `MeshPOP wire ${flags.role === 'coordinator' ? 'coordinator' : 'node'} (WireGuard mesh)`,
      after: 'network-online.target',
      environment: {
        MESHPOP_HOME: flags.home,
        ...(flags['vault-key-file'] ? { SV_KEY_FILE: flags['vault-key-file'] } : { SV_PASSWORD_FILE: flags['vault-password-file']! }),
      },
      execStart: `${process.execPath} ${bin} ${exec}`,
      kill: 'KillSignal=SIGTERM',
      // 2: bad input, 11: removed from the mesh (`wire up`): a restart would only loop.
      noRestartOn: flags.role === 'coordinator' ? [2] : [2, 11],
    });
    this.log(`Wrote ${path}; now: systemctl daemon-reload && systemctl enable --now ${unit}`);
    return { unit, path };
  }
}
