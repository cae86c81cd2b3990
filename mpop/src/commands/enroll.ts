import { Args, Flags } from '@oclif/core';
import { MpopCommand, duration, paint, parseDuration } from '../cli/base.js';
import { progress } from '../cli/progress.js';
import { ENROLL_STEPS, EnrollEvent, EnrollResult, enroll } from '../enroll/enroll.js';
import { readSecretFile } from '../enroll/secret-file.js';

export default class Enroll extends MpopCommand {
  static override summary = 'Take a machine that has only SSH into the fleet: packages, mesh join, services.';
  static override description =
    'Run on the Wire coordinator\'s machine. Over SSH (ssh2): checks the host key against $MESHPOP_HOME/mpop/known_hosts ' +
    '(first contact needs --accept-host-key with the fingerprint shown; a changed key is refused), Linux on x86_64 or arm64, ' +
    'root or passwordless sudo, Node >= 20.19 (--install-node installs it with apt), the MeshPOP packages (vault, wire, vssh) at ' +
    'this controller\'s version (packed here, uploaded over SFTP, installed in /usr/local/lib/meshpop; the host needs the npm ' +
    'registry for their dependencies), then makes a join token, runs `wire up --join` there, installs and starts the wire-up and ' +
    'vssh services (systemd units; without systemd they run detached and a reboot ends them), waits until the node answers vssh over ' +
    'its mesh address, and records it (in a group with --group). Each step is a line with its time; a failure stops at its step. ' +
    'Log in with --key FILE (with --passphrase-file when encrypted), a password from --password-file or SSH_PASSWORD, or the ' +
    'ssh-agent (SSH_AUTH_SOCK). Exit codes: 0 enrolled, 1 a step failed, 2 usage, 4 unreachable, 5 host key refused, 6 timed out.';
  static override examples = [
    '<%= config.bin %> enroll g3 root@203.0.113.7 --key ~/.ssh/id_ed25519 --accept-host-key SHA256:4lPq...',
    'SSH_PASSWORD=... <%= config.bin %> enroll nas1 admin@192.168.1.20 --install-node --group storage',
    '<%= config.bin %> enroll g4 root@g4.example.net --port 2222 --skip-install --json',
  ];
  static override args = {
    name: Args.string({ required: true, description: 'the node\'s name in the mesh (lowercase letters, digits, dashes)' }),
    target: Args.string({ required: true, description: 'user@host to SSH to (user defaults to root)' }),
  };
  static override flags = {
    key: Flags.string({ char: 'k', description: 'private key file (OpenSSH ed25519 or RSA)' }),
    'passphrase-file': Flags.string({ description: 'a file holding the key\'s passphrase' }),
    'password-file': Flags.string({ description: 'a file holding the SSH password (else SSH_PASSWORD; never on the command line)' }),
    port: Flags.integer({ char: 'p', description: 'SSH port', default: 22, min: 1, max: 65535 }),
    'accept-host-key': Flags.string({ description: 'trust this host key fingerprint (SHA256:...) on first contact, after checking it on the host' }),
    'install-node': Flags.boolean({ description: 'install Node >= 20.19 with apt when the host has none (or an older one)' }),
    'skip-install': Flags.boolean({ description: 'do not install the MeshPOP packages: they are already there' }),
    group: Flags.string({ char: 'g', description: 'add the node to this group of the inventory' }),
    'remote-home': Flags.string({ description: 'the node\'s MESHPOP_HOME', default: '/var/lib/meshpop' }),
    prefix: Flags.string({ description: 'install the packages in PREFIX/lib/meshpop, bins in PREFIX/bin', default: '/usr/local' }),
    interface: Flags.string({ description: 'the node\'s WireGuard interface', default: 'wire0' }),
    wait: Flags.string({ description: 'how long to wait for the node to answer over the mesh', default: '60s' }),
    'connect-timeout': Flags.string({ description: 'give up on the SSH connection after this long', default: '15s' }),
  };

  async run(): Promise<EnrollResult> {
    const { args, flags } = await this.parse(Enroll);
    if (flags['passphrase-file'] && !flags.key) this.usage('--passphrase-file goes with --key FILE.');
    const password = flags['password-file'] ? readSecretFile(flags['password-file'], 'password') : process.env.SSH_PASSWORD || undefined;
    const passphrase = flags['passphrase-file'] ? readSecretFile(flags['passphrase-file'], 'passphrase') : undefined;
    const json = this.jsonEnabled();
    const bar = progress(!json && process.stderr.isTTY === true);
    const c = paint(process.stdout);
    const pad = Math.max(...ENROLL_STEPS.map((s) => s.length));
    const onEvent = (e: EnrollEvent): void => {
      if (json) return;
      if (e.type === 'start') bar.update(`${e.step}...`, e.index, e.total);
      else if (e.type === 'detail') bar.update(`${e.step}: ${e.text}`);
      else {
        const mark = e.status === 'failed' ? c.red('✗') : e.status === 'skipped' ? c.yellow('-') : c.green('✓');
        // A failed step's reason is the error printed once at the end (on stderr), not repeated here.
        bar.log(`${mark} ${e.step.padEnd(pad)}  ${duration(e.durationMs).padStart(8)}  ${e.status === 'failed' ? c.red('failed') : e.detail}`);
        bar.update(e.step, e.index + 1, e.total);
      }
    };
    try {
      const r = await enroll({
        home: this.home,
        name: args.name,
        target: args.target,
        port: flags.port,
        auth: {
          ...(flags.key ? { keyFile: flags.key } : {}),
          ...(passphrase !== undefined ? { passphrase } : {}),
          ...(password !== undefined ? { password } : {}),
          ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
        },
        ...(flags['accept-host-key'] ? { acceptHostKey: flags['accept-host-key'] } : {}),
        installNode: flags['install-node'],
        skipInstall: flags['skip-install'],
        ...(flags.group ? { group: flags.group } : {}),
        remoteHome: flags['remote-home'],
        prefix: flags.prefix,
        iface: flags.interface,
        waitMs: parseDuration(flags.wait, '--wait'),
        connectTimeoutMs: parseDuration(flags['connect-timeout'], '--connect-timeout'),
        signal: this.signal(),
        onEvent,
      });
      bar.stop();
      if (!json) {
        this.log(`${c.bold(r.node)} enrolled: ${r.meshIp} in the mesh, in ${duration(r.durationMs)}. Try: mpop exec ${r.node} -- uptime`);
        if (r.services.note) this.log(c.yellow(`note: ${r.services.note}`));
      }
      return r;
    } finally {
      bar.stop();
    }
  }
}
