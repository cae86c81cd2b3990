import { existsSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { WireCommand } from '../cli/base.js';
import { readNodeState } from '../node/state.js';
import { interfaceExists } from '../wg/iface.js';
import { run } from '../wg/run.js';

export default class Down extends WireCommand {
  static override summary = 'Stop `wire up` on this machine and remove its interface.';
  static override examples = ['<%= config.bin %> down'];

  async run(): Promise<{ stopped: boolean; interfaceRemoved: boolean }> {
    await this.parse(Down);
    const state = readNodeState(this.paths.node);
    let stopped = false;
    if (existsSync(this.paths.upPid)) {
      const pid = Number.parseInt(readFileSync(this.paths.upPid, 'utf8'), 10);
      try {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100; i++) {
          await sleep(50);
          process.kill(pid, 0);
        }
      } catch {
        stopped = true;
      }
      rmSync(this.paths.upPid, { force: true });
    }
    let interfaceRemoved = false;
    if (await interfaceExists(state.iface)) {
      await run('ip', ['link', 'del', 'dev', state.iface]);
      interfaceRemoved = true;
    }
    this.log(stopped || interfaceRemoved ? `Stopped; ${state.iface} is down.` : 'wire was not running here.');
    return { stopped, interfaceRemoved };
  }
}
