import { Flags } from '@oclif/core';
import { writeFileAtomic } from '@meshpop/vault';
import { mkdirSync, rmSync } from 'node:fs';
import { VsshCommand } from '../cli/base.js';
import { serveNode } from '../server/serve.js';
import { DEFAULT_PORT } from '../paths.js';

export default class Serve extends VsshCommand {
  static override summary = 'Run this node\'s vssh daemon (TCP 48291 on its mesh address) until stopped.';
  static override description =
    'Answers signed requests from the controller: exec, shell, put/get/sync, stat/list, sysinfo, tunnels. ' +
    'Its key comes from the vault (vssh/node-key, or derived from wire/node-secret). Binds to the node\'s mesh ' +
    'address (127.0.0.1 outside a mesh); an address outside the mesh needs TLS (--tls-bind ADDR, or --tls for every address). Enforces the policy file ' +
    '($MESHPOP_HOME/vssh/policy.json, or --policy). Logs one JSON line per request on stderr.';
  static override examples = ['<%= config.bin %> serve', '<%= config.bin %> serve --bind 127.0.0.1 --port 48292', '<%= config.bin %> serve --bind 10.99.0.7 --tls-bind 100.64.0.7 --policy /etc/meshpop/vssh-policy.json'];
  static override enableJsonFlag = false;
  static override flags = {
    bind: Flags.string({ multiple: true, description: 'address to listen on, plain (repeat for several)' }),
    'tls-bind': Flags.string({ multiple: true, description: 'address to listen on with TLS 1.3 (repeat for several; e.g. the Tailscale or public address)' }),
    port: Flags.integer({ default: DEFAULT_PORT, min: 0, max: 65535, description: 'TCP port' }),
    tls: Flags.boolean({ description: 'TLS 1.3 on every --bind address too (an address outside the mesh needs TLS)' }),
    policy: Flags.string({ description: 'policy file (JSON)' }),
    id: Flags.string({ description: 'this node\'s id, when its key is derived from a master in its own vault' }),
    name: Flags.string({ description: 'the name this node reports' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const daemon = await serveNode({ home: this.home, bind: flags.bind, tlsBind: flags['tls-bind'], port: flags.port, tls: flags.tls, policyFile: flags.policy, id: flags.id, name: flags.name });
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.paths.servePid, Buffer.from(`${process.pid}\n`), 0o644);
    for (const a of daemon.addresses) this.log(`vssh serving on ${a.host}:${a.port}${a.tls ? ` (TLS ${daemon.fingerprint})` : ''}`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await daemon.close();
    rmSync(this.paths.servePid, { force: true });
  }
}
