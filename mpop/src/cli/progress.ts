import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';

/**
 * Progress is the one live progress display of mpop (on stderr, only on a TTY, only once a task has run
 * for PROGRESS_DELAY_MS): a line redrawn in place, cleared when done. Piped or under --json it does nothing.
 */
export interface Progress {
  update(text: string, value?: number, total?: number): void;
  /** log prints a line above the progress line (for streamed output) */
  log(line: string): void;
  stop(): void;
}

/** PROGRESS_DELAY_MS: anything shorter than this shows no progress at all. */
export const PROGRESS_DELAY_MS = 1000;

/** progress starts a progress display; `enabled` false (piped, --json) gives one that prints only log lines to stdout. */
export function progress(enabled: boolean = process.stderr.isTTY === true): Progress {
  if (!enabled) return { update() {}, log: (line) => void process.stdout.write(line + '\n'), stop() {} };
  const started = performance.now();
  let bar: SingleBar | undefined;
  let last = { text: '', value: 0, total: 1 };
  let timer: NodeJS.Timeout | undefined = setTimeout(() => {
    timer = undefined;
    const { SingleBar: Bar } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress'); // loaded only on a TTY
    bar = new Bar({ format: '{bar} {text}', barsize: 20, hideCursor: true, clearOnComplete: true, stopOnComplete: false, stream: process.stderr, fps: 10, barCompleteChar: '█', barIncompleteChar: '░' });
    bar.start(last.total, last.value, { text: last.text });
  }, Math.max(0, PROGRESS_DELAY_MS - (performance.now() - started)));
  timer.unref();
  return {
    update(text, value = last.value, total = last.total) {
      last = { text, value, total };
      if (bar) {
        bar.setTotal(total);
        bar.update(value, { text });
      }
    },
    log(line) {
      if (bar) process.stderr.write('\r\x1b[K');
      process.stdout.write(line + '\n');
      if (bar) bar.render();
    },
    stop() {
      if (timer) clearTimeout(timer);
      bar?.stop();
      bar = undefined;
    },
  };
}
