import { existsSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import type { HealRecord } from './view.js';

/** HEAL_TAIL_BYTES is how much of the end of the audit log is read for the heal list. */
const HEAL_TAIL_BYTES = 256 * 1024;

/** readHealRecords reads the last `max` heal fixes from the audit log (newest first); lines of other kinds or cut by a crash are skipped. */
export function readHealRecords(file: string, max = 50): HealRecord[] {
  if (!existsSync(file)) return [];
  const fd = openSync(file, 'r');
  let text: string;
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, HEAL_TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    text = buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
  const out: HealRecord[] = [];
  for (const line of text.split('\n').reverse()) {
    if (out.length >= max) break;
    try {
      const e = JSON.parse(line) as { time?: unknown; node?: unknown; check?: unknown; action?: unknown; result?: unknown; before?: { diagnosis?: unknown }; after?: { diagnosis?: unknown } | null };
      if (typeof e.time !== 'string' || typeof e.node !== 'string' || typeof e.check !== 'string') continue;
      out.push({ time: e.time, node: e.node, check: e.check, action: String(e.action ?? ''), result: String(e.result ?? ''), before: String(e.before?.diagnosis ?? ''), after: e.after ? String(e.after.diagnosis ?? '') : null });
    } catch {
      /* a partial first line, or a line cut by a crash */
    }
  }
  return out;
}
