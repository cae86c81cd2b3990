// swarm: many vssh node identities served by a few processes, as Salt's minionswarm serves many minions
// (500 Node processes of ~50 MB each would not fit the machine). Run as a program it is one swarm process:
//   node bench/lib/swarm.mjs NAME...    (MESHPOP_HOME: a controller home with an unlocked vault agent)
// It derives each name's key from the controller's vssh master, starts one real vssh daemon per name with
// the vssh library (startDaemon: its own key, its own port on 127.0.0.1), prints one JSON line
// {"ports": {name: port}} when all listen, and serves until SIGTERM. Imported, startSwarm runs such
// processes and writes the controller's nodes.json.
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ownChild } from './cleanup.mjs';

const SELF = fileURLToPath(import.meta.url);

/** serveNames is the swarm process: one in-process daemon per name, until SIGTERM or SIGINT. */
async function serveNames(names) {
  const { openVault } = await import('../../vault/dist/index.js');
  const { controllerMaster, deriveNodeKey, startDaemon } = await import('../../vssh/dist/index.js');
  const vault = await openVault({});
  const { master } = await controllerMaster(vault);
  await vault.close();
  const daemons = [];
  const ports = {};
  for (const name of names) {
    const daemon = await startDaemon({ key: deriveNodeKey(master, name), name, port: 0, hosts: ['127.0.0.1'] });
    daemons.push(daemon);
    ports[name] = daemon.port;
  }
  const stop = async () => {
    await Promise.allSettled(daemons.map((d) => d.close()));
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(JSON.stringify({ ports }) + '\n');
}

/**
 * startSwarm serves `names` from `processes` swarm processes (names dealt out in turn), with `env` (a
 * controller home whose vault agent is unlocked), and returns { ports: {name: port}, pids, rss(), stop() }:
 * rss() sums the processes' resident memory in bytes (from /proc), stop() ends them with SIGTERM and
 * waits. cleanup() kills any still running. `nodeArgs` go to node (e.g. --cpu-prof).
 */
export async function startSwarm(env, names, processes, { nodeArgs = [] } = {}) {
  const groups = Array.from({ length: Math.min(processes, names.length) }, () => []);
  names.forEach((name, i) => groups[i % groups.length].push(name));
  const started = await Promise.all(
    groups.map(async (group) => {
      const child = spawn(process.execPath, [...nodeArgs, SELF, ...group], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const owned = ownChild(child);
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (c) => (err = (err + c).slice(-2000)));
      const ports = await new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`a swarm process did not listen within 60 s: ${err}`)), 60_000);
        child.stdout.setEncoding('utf8').on('data', (chunk) => {
          out += chunk;
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (line && out.includes('\n')) {
            clearTimeout(timer);
            resolve(JSON.parse(line).ports);
          }
        });
        void owned.exit.then((how) => {
          clearTimeout(timer);
          reject(new Error(`a swarm process exited (${how}) before listening: ${err}`));
        });
      });
      return { child, owned, ports };
    }),
  );
  return {
    ports: Object.assign({}, ...started.map((s) => s.ports)),
    pids: started.map((s) => s.child.pid),
    rss: () => started.reduce((sum, s) => sum + rssOf(s.child.pid), 0),
    stop: () => Promise.all(started.map((s) => s.owned.stop())),
  };
}

/** rssOf returns a process's resident memory in bytes, from /proc/PID/status (0 when it is gone). */
export function rssOf(pid) {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(SELF)) {
  await serveNames(process.argv.slice(2));
}
