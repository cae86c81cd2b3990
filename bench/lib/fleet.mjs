// fleet: the vssh side of the mpop benchmarks: many `vssh serve` processes on loopback, each a node of
// its own, and the controller's nodes.json that lists them (or a swarm's ports, swarm.mjs).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownChild } from './cleanup.mjs';
import { VSSH, withoutCaCerts } from './vssh.mjs';

/** MPOP is the path of the mpop CLI as the repo builds it. */
export const MPOP = fileURLToPath(new URL('../../mpop/bin/run.js', import.meta.url));

/** nodeNames returns n1..nN. */
export const nodeNames = (n) => Array.from({ length: n }, (_, i) => `n${i + 1}`);

/** writeNodes writes `ports` ({name: port}, all on 127.0.0.1) as the controller's vssh/nodes.json in `home`. */
export function writeNodes(home, ports) {
  mkdirSync(join(home, 'vssh'), { recursive: true, mode: 0o700 });
  const nodes = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, { addresses: [`127.0.0.1:${port}`] }]));
  writeFileSync(join(home, 'vssh', 'nodes.json'), JSON.stringify(nodes, null, 1));
}

/**
 * startServes starts one `vssh serve` process per name (its key derived from the controller's master in
 * `vault`'s home through the unlock agent, as `vssh serve --id` does on the controller), `parallel` at a
 * time, each on a free port of 127.0.0.1, and returns { ports: {name: port}, pids, stop() }. `wrap(name)`
 * may return a command prefix to start a daemon under (e.g. `unshare` for a mount namespace of its own).
 * cleanup() kills any still running.
 */
export async function startServes(vault, names, { parallel = 8, wrap } = {}) {
  const env = { ...withoutCaCerts(vault.env), VSSH_LOG_LEVEL: 'warn' };
  const started = [];
  const queue = [...names];
  const one = async (name) => {
    const argv = [process.execPath, VSSH, 'serve', '--bind', '127.0.0.1', '--port', '0', '--id', name, '--name', name];
    const [cmd, ...args] = [...(wrap?.(name) ?? []), ...argv];
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const owned = ownChild(child);
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c) => (err = (err + c).slice(-2000)));
    const port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`vssh serve ${name} did not listen within 60 s: ${err}`)), 60_000);
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        out += chunk;
        const m = /vssh serving on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          child.stdout.resume();
          resolve(Number(m[1]));
        }
      });
      void owned.exit.then((how) => {
        clearTimeout(timer);
        reject(new Error(`vssh serve ${name} exited (${how}) before listening: ${err}`));
      });
    });
    started.push({ name, port, child, owned });
  };
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (queue.length) await one(queue.shift());
  }));
  return {
    ports: Object.fromEntries(started.map((s) => [s.name, s.port])),
    pids: started.map((s) => s.child.pid),
    stop: () => Promise.all(started.map((s) => s.owned.stop())),
  };
}
