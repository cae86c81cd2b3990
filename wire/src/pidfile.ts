import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '@meshpop/vault';

/**
 * A pid file here holds `PID STARTTIME`: the process id and its start time in clock ticks since boot
 * (field 22 of /proc/PID/stat). A pid is reused once its process is gone; the pair is not, so a stale
 * file never names another process.
 */

/** statOf returns the fields of /proc/PID/stat from field 3 (the state) on, or undefined when there is no such process. */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** startTimeOf returns a process's start time (clock ticks since boot), or undefined when there is none. */
export function startTimeOf(pid: number): string | undefined {
  return statOf(pid)?.[19];
}

/** isRunning tells whether a process exists and has not ended (a zombie waiting for its parent has ended). */
export function isRunning(pid: number): boolean {
  const state = statOf(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** writePidFile records this process in `file` (0600). */
export function writePidFile(file: string): void {
  writeFileAtomic(file, Buffer.from(`${process.pid} ${startTimeOf(process.pid) ?? '?'}\n`));
}

/** PidFileState is what a pid file says: no file, a live process it names, or a stale file. */
export type PidFileState = { state: 'none' } | { state: 'live'; pid: number } | { state: 'stale'; pid: number | null };

/** readPidFile tells whether the process a pid file names is still that process. */
export function readPidFile(file: string): PidFileState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { state: 'none' };
  }
  const m = /^(\d{1,10}) (\d{1,20})\n?$/.exec(text);
  if (!m) return { state: 'stale', pid: /^\d{1,10}/.test(text) ? Number.parseInt(text, 10) : null };
  const pid = Number(m[1]);
  return pid > 1 && startTimeOf(pid) === m[2] ? { state: 'live', pid } : { state: 'stale', pid };
}

/** removePidFile deletes `file` if it still names this process (another one may have taken it over). */
export function removePidFile(file: string): void {
  const s = readPidFile(file);
  if (s.state === 'live' && s.pid === process.pid) rmSync(file, { force: true });
}

/** serviceUnitOf returns the systemd service a process runs in (e.g. `wire-up.service`), from its cgroup. */
export function serviceUnitOf(pid: number): string | undefined {
  try {
    const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    return /\/([A-Za-z0-9@_.:-]+\.service)$/m.exec(cgroup)?.[1];
  } catch {
    return undefined;
  }
}
