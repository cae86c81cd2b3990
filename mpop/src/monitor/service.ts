import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeServiceUnit, type ServiceUnit } from '@meshpop/wire';
import { MpopError } from '../errors.js';
import { parseDuration } from '../cli/format.js';
import { DEFAULT_RETENTION, parseDownsample } from './retention.js';

/** MonitorServiceOptions are what the monitor's unit runs with. */
export interface MonitorServiceOptions {
  /** MESHPOP_HOME for the service */
  home: string;
  interval?: string;
  target?: string;
  retention?: string;
  downsample?: string[];
  /** how the service unlocks the vault for its vssh key (a service has no one to type a password) */
  vaultKeyFile?: string;
  vaultPasswordFile?: string;
  /** the mpop bin to run (default this package's) */
  bin?: string;
}

/** MONITOR_UNIT is the monitor service's name. */
export const MONITOR_UNIT = 'mpop-monitor';

/** SAFE_ARG is what a word of the unit may hold: no spaces, quotes, $ or ; (shell-like in ExecStart), no % (a unit specifier). */
const SAFE_ARG = /^[A-Za-z0-9@+=:,./_*!&-]+$/;

/** monitorCommand is the command line the service runs (each word checked: no quoting games in a unit file). */
export function monitorCommand(o: MonitorServiceOptions): string[] {
  if (o.interval) parseDuration(o.interval, '--interval');
  const retentionMs = o.retention ? parseDuration(o.retention, '--retention') : DEFAULT_RETENTION.retentionMs;
  if (o.downsample?.length) parseDownsample(o.downsample, retentionMs);
  const argv = [process.execPath, o.bin ?? fileURLToPath(new URL('../../bin/run.js', import.meta.url)), 'monitor', ...(o.target ? [o.target] : []), '--interval', o.interval ?? '30s', ...(o.retention ? ['--retention', o.retention] : []), ...(o.downsample ?? []).flatMap((d) => ['--downsample', d])];
  const bad = argv.find((a) => !SAFE_ARG.test(a));
  if (bad !== undefined) throw new MpopError('MPOP_USAGE', `"${bad}" cannot go into a unit's command line (letters, digits and @+=:,./_*!&- only)`);
  return argv;
}

/** monitorUnit is the systemd unit that runs `mpop monitor` (wire's unit style: restarts, SIGTERM finishes the round). */
export function monitorUnit(o: MonitorServiceOptions): ServiceUnit {
  for (const f of [o.home, o.vaultKeyFile, o.vaultPasswordFile]) if (f !== undefined && !SAFE_ARG.test(f)) throw new MpopError('MPOP_USAGE', `"${f}" cannot go into a unit file (letters, digits and @+=:,./_*!&- only)`);
  return {
    name: MONITOR_UNIT,
    description: 'MeshPOP fleet monitor (mpop monitor: samples into monitor.db, raises alerts)',
    after: 'network-online.target',
    environment: {
      MESHPOP_HOME: o.home,
      NO_COLOR: '1',
      ...(o.vaultKeyFile ? { SV_KEY_FILE: o.vaultKeyFile } : o.vaultPasswordFile ? { SV_PASSWORD_FILE: o.vaultPasswordFile } : {}),
    },
    execStart: monitorCommand(o).join(' '),
    kill: 'KillSignal=SIGTERM\nTimeoutStopSec=60',
    // 2: bad flags, 3: bad inventory or target, 5: no vssh key: a restart would only loop.
    noRestartOn: [2, 3, 5],
  };
}

/** hasSystemd tells whether systemd runs this machine (its runtime directory exists, as sd_booted checks). */
export const hasSystemd = (): boolean => existsSync('/run/systemd/system');

/** InstalledService is what install-service did, or why it could not. */
export interface InstalledService {
  unit: string;
  path: string;
  systemd: boolean;
  /** what to do next: systemctl commands, or the command to run by other means */
  next: string;
  command: string;
}

/** installMonitorService writes the unit into `dir`; without systemd it still writes it and says to run the command by other means. */
export function installMonitorService(dir: string, o: MonitorServiceOptions): InstalledService {
  const unit = monitorUnit(o);
  const path = writeServiceUnit(dir, unit);
  const systemd = hasSystemd();
  const command = [...Object.entries(unit.environment).filter(([k]) => k !== 'NO_COLOR').map(([k, v]) => `${k}=${v}`), unit.execStart].join(' ');
  return {
    unit: MONITOR_UNIT, path, systemd, command,
    next: systemd ? `systemctl daemon-reload && systemctl enable --now ${MONITOR_UNIT}` : `systemd does not run this machine, so the unit will not start by itself; run the monitor another way (supervisor, tmux, cron @reboot): ${command}`,
  };
}
