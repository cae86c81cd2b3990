import { Flags } from '@oclif/core';
import { fileURLToPath } from 'node:url';
import { VsshCommand } from '../cli/base.js';
import { writeServiceUnit } from '@meshpop/wire';
import { VsshError } from '../errors.js';

export default class InstallService extends VsshCommand {
  static override summary = 'Write a systemd unit for `vssh serve` (starts after wire-up when the node is in a mesh).';
  static override description =
    'The unit runs with MESHPOP_HOME (default /var/lib/meshpop) and opens the vault with --vault-key-file (SV_KEY_FILE) or ' +
    '--vault-password-file (SV_PASSWORD_FILE). Then: systemctl daemon-reload && systemctl enable --now vssh.';
  static override examples = ['<%= config.bin %> install-service --vault-key-file /var/lib/meshpop/vault.key', '<%= config.bin %> install-service --vault-key-file /k --policy /etc/meshpop/vssh-policy.json'];
  static override flags = {
    home: Flags.string({ description: 'MESHPOP_HOME for the service', default: '/var/lib/meshpop' }),
    'vault-key-file': Flags.string({ description: 'key file that unlocks the vault (SV_KEY_FILE)' }),
    'vault-password-file': Flags.string({ description: 'password file that unlocks the vault (SV_PASSWORD_FILE)' }),
    policy: Flags.string({ description: 'policy file for the daemon' }),
    bind: Flags.string({ multiple: true, description: 'addresses to bind (default: the mesh address)' }),
    tls: Flags.boolean({ description: 'serve TLS 1.3 (needed for addresses outside the mesh)' }),
    dir: Flags.string({ description: 'where to write the unit', default: '/etc/systemd/system' }),
  };

  async run(): Promise<{ unit: string; path: string }> {
    const { flags } = await this.parse(InstallService);
    if (!flags['vault-key-file'] && !flags['vault-password-file']) {
      throw new VsshError('VSSH_BAD_INPUT', 'a service cannot type a password: pass --vault-key-file or --vault-password-file.');
    }
    const bin = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
    const args = ['serve', ...(flags.bind ?? []).flatMap((b) => ['--bind', b]), ...(flags.tls ? ['--tls'] : []), ...(flags.policy ? ['--policy', flags.policy] : [])];
    const path = writeServiceUnit(flags.dir, {
      name: 'vssh',
      description: 'MeshPOP vssh daemon (authenticated exec and file transfer, TCP 48291)',
      after: 'network-online.target wire-up.service',
      environment: {
        MESHPOP_HOME: flags.home,
        ...(flags['vault-key-file'] ? { SV_KEY_FILE: flags['vault-key-file'] } : { SV_PASSWORD_FILE: flags['vault-password-file']! }),
      },
      execStart: `${process.execPath} ${bin} ${args.join(' ')}`,
      kill: 'KillMode=mixed',
    });
    this.log(`Wrote ${path}; now: systemctl daemon-reload && systemctl enable --now vssh`);
    return { unit: 'vssh', path };
  }
}
