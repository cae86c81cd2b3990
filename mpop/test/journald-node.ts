import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Fleet, freePort, VSSH_BIN } from './fleet.js';

/**
 * A node with a real systemd journal: a vssh daemon (its own process, `vssh serve`) in a private mount
 * namespace where a real systemd-journald runs on a tmpfs /run. Needs root, unshare and systemd-journald,
 * and a machine without a journal of its own (`canJournal`).
 */
export const JOURNALD = '/lib/systemd/systemd-journald';
export const canJournal = process.getuid?.() === 0 && existsSync(JOURNALD) && existsSync('/usr/bin/unshare') && !existsSync('/run/systemd/journal/socket');

/** JournalNode is the running node; stop() ends the daemon and its journald (one process group). */
export interface JournalNode {
  process: ChildProcess;
  stop(): void;
}

/** startJournalNode starts the node, adds it to the fleet's nodes.json as `name`, and waits until it answers. */
export async function startJournalNode(fleet: Fleet, name = 'j1'): Promise<JournalNode> {
  const port = await freePort();
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /run/systemd',
    'mkdir -p /run/log && mount -t tmpfs tmpfs /run/log',
    'mkdir -p /run/systemd/journal',
    `${JOURNALD} >/dev/null 2>&1 &`,
    'for i in $(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done',
    `exec "${process.execPath}" "${VSSH_BIN}" serve --bind 127.0.0.1 --port ${port} --id ${name} --name ${name}`,
  ].join('\n');
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { env: { ...process.env, ...fleet.env }, detached: true, stdio: 'ignore' });
  const nodesFile = join(fleet.home, 'vssh', 'nodes.json');
  writeFileSync(nodesFile, JSON.stringify({ ...JSON.parse(readFileSync(nodesFile, 'utf8')), [name]: { addresses: [`127.0.0.1:${port}`] } }));
  for (let i = 0; i < 150; i++) {
    if ((await fleet.mpop(['exec', name, '--', 'true'])).exitCode === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    process: child,
    stop() {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    },
  };
}
