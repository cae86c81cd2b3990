import { Flags } from '@oclif/core';
import { removePidFile, writePidFile } from '../pidfile.js';
import { WireCommand } from '../cli/base.js';
import { startCoordinator } from '../coordinator/serve.js';

export default class Serve extends WireCommand {
  static override summary = 'Run the mesh coordinator: registry, HTTPS API, UDP probe, and its own interface at 10.99.0.1.';
  static override description =
    'Keeps the registry in $MESHPOP_HOME/wire/registry.db, serves HTTPS on --port with a self-signed certificate whose ' +
    'fingerprint every join token carries, answers the UDP probe on --probe-port, and keeps its WireGuard peers in step ' +
    'with the registry. Its keys live in the vault (wire/private-key, wire/mesh-master). Runs until stopped (SIGTERM).';
  static override examples = ['<%= config.bin %> serve --endpoint 203.0.113.7', '<%= config.bin %> serve --endpoint hub.example.net --relay'];
  static override flags = {
    endpoint: Flags.string({ description: 'the public address (IP or name) nodes reach this coordinator at', required: true }),
    bind: Flags.string({ description: 'address to listen on', default: '0.0.0.0' }),
    port: Flags.integer({ description: 'HTTPS API port', default: 8787, min: 1, max: 65535 }),
    'probe-port': Flags.integer({ description: 'UDP probe port', default: 8788, min: 1, max: 65535 }),
    'listen-port': Flags.integer({ description: 'WireGuard port', default: 51820, min: 1, max: 65535 }),
    interface: Flags.string({ description: 'WireGuard interface name', default: 'wire0' }),
    'sync-interval': Flags.integer({ description: 'how often nodes sync, in seconds', default: 30, min: 1, max: 3600 }),
    relay: Flags.boolean({ description: 'relay traffic between nodes that cannot reach each other (forwarding from the mesh interface to itself only, by an nftables table removed at exit; needs nftables)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const c = await startCoordinator({
      home: this.home,
      endpoint: flags.endpoint,
      bind: flags.bind,
      apiPort: flags.port,
      probePort: flags['probe-port'],
      wgPort: flags['listen-port'],
      iface: flags.interface,
      syncIntervalMs: flags['sync-interval'] * 1000,
      relay: flags.relay,
    });
    writePidFile(this.paths.servePid);
    await new Promise<void>((resolve) => {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
    });
    await c.close();
    removePidFile(this.paths.servePid);
  }
}
