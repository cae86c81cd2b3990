import { setTimeout as sleep } from 'node:timers/promises';
import { rmSync } from 'node:fs';
import { WireCommand } from '../cli/base.js';
import { readNodeState } from '../node/state.js';
import { isRunning, readPidFile, serviceUnitOf } from '../pidfile.js';
import { interfaceExists } from '../wg/iface.js';
import { run } from '../wg/run.js';

/** waitGone waits up to `ms` for a process to end; true when it did. */
async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (!isRunning(pid)) return true;
    await sleep(50);
  }
  return !isRunning(pid);
}

export default class Down extends WireCommand {
  static override summary = 'Stop `wire up` on this machine (its systemd unit, when it runs under one) and remove its interface.';
  static override description =
    'Only the process that up.pid names is stopped, and only while it is still that process (its start time must match): ' +
    'a stale up.pid is removed and nothing is killed. A `wire up` run by a wire-* systemd unit is stopped with systemctl stop, ' +
    'so that Restart= does not bring it back.';
  static override examples = ['<%= config.bin %> down'];

  async run(): Promise<{ stopped: boolean; unit: string | null; stalePid: number | null; interfaceRemoved: boolean }> {
    await this.parse(Down);
    const state = readNodeState(this.paths.node);
    const up = readPidFile(this.paths.upPid);
    let stopped = false;
    let unit: string | null = null;
    let stalePid: number | null = null;
    if (up.state === 'live') {
      unit = serviceUnitOf(up.pid) ?? null;
      if (unit && !unit.startsWith('wire-')) unit = null;
      if (unit) await run('systemctl', ['stop', unit]);
      else process.kill(up.pid, 'SIGTERM');
      stopped = await waitGone(up.pid, 10_000);
      if (!stopped) {
        // It is ours (same pid and start time) and did not stop: end it.
        process.kill(up.pid, 'SIGKILL');
        stopped = await waitGone(up.pid, 2000);
      }
    } else if (up.state === 'stale') {
      stalePid = up.pid;
    }
    if (up.state !== 'none') rmSync(this.paths.upPid, { force: true });
    let interfaceRemoved = false;
    if (await interfaceExists(state.iface)) {
      await run('ip', ['link', 'del', 'dev', state.iface]);
      interfaceRemoved = true;
    }
    if (stalePid !== null) process.stderr.write(`wire: up.pid was stale (process ${stalePid} is not the \`wire up\` that wrote it); nothing was killed.\n`);
    this.log(stopped || interfaceRemoved ? `Stopped${unit ? ` ${unit}` : ''}; ${state.iface} is down.` : 'wire was not running here.');
    return { stopped, unit, stalePid, interfaceRemoved };
  }
}
