import { WireCommand, ago, table } from '../cli/base.js';
import { MeshStatus, meshStatus } from '../status.js';

const bytes = (n: number): string => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

export default class Status extends WireCommand {
  static override summary = 'Show this machine\'s interface and each peer: endpoint, last handshake, bytes, direct or relayed.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run(): Promise<MeshStatus> {
    await this.parse(Status);
    const s = await meshStatus(this.home);
    this.log(`${s.role} ${s.name}  ${s.meshIp}  ${s.iface} ${s.up ? `up, port ${s.listenPort}` : 'DOWN'}${s.removed ? `  REMOVED from the mesh by the coordinator (${s.removed}): join again with a new token` : ''}`);
    if (s.peers.length) {
      this.log(table(
        ['PEER', 'MESH IP', 'ENDPOINT', 'HANDSHAKE', 'RX', 'TX', 'PATH'],
        s.peers.map((p) => [p.name, p.meshIp, p.endpoint ?? '-', ago(p.lastHandshake), bytes(p.rxBytes), bytes(p.txBytes), p.path]),
      ));
    }
    return s;
  }
}
