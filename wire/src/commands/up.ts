import { Flags } from '@oclif/core';
import { WireCommand } from '../cli/base.js';
import { KEEPALIVE_S } from '../coordinator/peers.js';
import { checkStaleAfter, runNode } from '../node/daemon.js';
import { joinMesh } from '../node/join.js';
import { REMOVED_MESSAGE } from '../node/state.js';
import { WireError } from '../errors.js';

export default class Up extends WireCommand {
  static override summary = 'Join the mesh (with --join) and keep this machine\'s interface in step with it.';
  static override description =
    'With --join TOKEN, makes this machine\'s WireGuard key pair (the private key stays in its vault), enrolls with the ' +
    'coordinator the token names and pins. Then brings up the interface (kernel WireGuard, else wireguard-go) and syncs ' +
    'with the coordinator every interval, applying peer changes as a diff. Keeps working on the last known peers while the ' +
    'coordinator is away. Runs until `wire down` (or SIGTERM).';
  static override examples = ['<%= config.bin %> up --join wire1_eyJ1Ijoi...', '<%= config.bin %> up'];
  static override flags = {
    join: Flags.string({ description: 'a join token from `wire token create`' }),
    name: Flags.string({ description: 'this node\'s name (default: the one the token carries)' }),
    interface: Flags.string({ description: 'WireGuard interface name', default: 'wire0' }),
    'listen-port': Flags.integer({ description: 'WireGuard port', default: 51820, min: 1, max: 65535 }),
    interval: Flags.integer({ description: 'sync every N seconds (default: what the coordinator says)', min: 1, max: 3600 }),
    'stale-after': Flags.integer({ description: `a peer silent for N seconds (at least ${KEEPALIVE_S}, the keepalive) is stale: re-resolve, then relay`, default: 180 }),
  };

  async run(): Promise<{ outcome: 'stopped' }> {
    const { flags } = await this.parse(Up);
    checkStaleAfter(flags['stale-after'] * 1000);
    if (flags.join) {
      const { state, reply } = await joinMesh({ home: this.home, token: flags.join, ...(flags.name ? { name: flags.name } : {}), iface: flags.interface, listenPort: flags['listen-port'] });
      this.logToStderr(reply ? `wire: joined as ${state.name} (${state.meshIp})` : `wire: already joined with this token as ${state.name} (${state.meshIp}); bringing it up`);
    }
    const stop = new AbortController();
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
    const outcome = await runNode({ home: this.home, signal: stop.signal, staleMs: flags['stale-after'] * 1000, ...(flags.interval ? { intervalMs: flags.interval * 1000 } : {}) });
    // An exit code of its own (11), on which the systemd unit does not restart it.
    if (outcome === 'removed') throw new WireError('WIRE_REMOVED', `this node was ${REMOVED_MESSAGE}`);
    return { outcome };
  }
}
