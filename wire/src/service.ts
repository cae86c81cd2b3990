import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** ServiceUnit is what differs between MeshPOP's systemd units (wire-serve, wire-up, vssh). */
export interface ServiceUnit {
  /** the unit's name, without `.service` */
  name: string;
  description: string;
  /** the After= line's units */
  after: string;
  /** Environment= lines, in order */
  environment: Record<string, string>;
  execStart: string;
  /** how systemd stops it, e.g. `KillSignal=SIGTERM` or `KillMode=mixed` */
  kill: string;
  /** exit codes after which it must not be restarted (RestartPreventExitStatus=): nothing a restart fixes */
  noRestartOn?: number[];
}

/** writeServiceUnit writes `<dir>/<name>.service` (mode 0644), making `dir` when missing, and returns its path. */
export function writeServiceUnit(dir: string, u: ServiceUnit): string {
  const text = [
    '[Unit]',
    `Description=${u.description}`,
    `After=${u.after}`,
    'Wants=network-online.target',
    '',
    '[Service]',
    ...Object.entries(u.environment).map(([k, v]) => `Environment=${k}=${v}`),
    `ExecStart=${u.execStart}`,
    'Restart=always',
    'RestartSec=2',
    ...(u.noRestartOn?.length ? [`RestartPreventExitStatus=${u.noRestartOn.join(' ')}`] : []),
    u.kill,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${u.name}.service`);
  writeFileSync(path, text, { mode: 0o644 });
  return path;
}
