import type { IndexProgress } from '../indexer.js';

/** progressLine keeps one line per node on a TTY's stderr, rewritten as the walk goes; silent elsewhere. */
export function progressPrinter(): { update: (p: IndexProgress) => void; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  const state = new Map<string, IndexProgress>();
  let drawn = 0;
  let last = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    if (drawn) process.stderr.write(`\x1b[${drawn}A`);
    for (const p of state.values()) {
      const mb = (p.bytes / 1e6).toFixed(1);
      process.stderr.write(`\x1b[2K${p.node.padEnd(12)} ${p.phase.padEnd(8)} listed ${p.listed}  read ${p.read}/${p.toRead}  ${mb} MB\n`);
    }
    drawn = state.size;
  };
  return {
    update: (p) => {
      state.set(p.node, p);
      draw(p.phase === 'done' || p.phase === 'failed');
    },
    done: () => draw(true),
  };
}
