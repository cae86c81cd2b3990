import type { Paint } from '../cli/format.js';
import { LEVELS, type LogEntry } from './parse.js';

/**
 * entryText renders an entry as one line for people. A file's line is printed as it is (it carries its own
 * time); a journal entry as journalctl's short format does ("2026-12-02 06:50:53 sshd[412]: message").
 */
export function entryText(e: LogEntry, c?: Paint): string {
  const msg = e.message.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const colour = (s: string): string => (!c || e.priority === undefined ? s : e.priority <= 3 ? c.red(s) : e.priority === 4 ? c.yellow(s) : e.priority === 7 ? c.dim(s) : s);
  if (e.file) return colour(msg);
  const time = e.time ? e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, '') + ' ' : '';
  const who = e.identifier ? `${e.identifier}${e.pid ? `[${e.pid}]` : ''}` : (e.unit ?? '');
  const level = e.priority !== undefined && e.priority <= 4 && !e.file ? `<${LEVELS[e.priority]}> ` : '';
  return `${c ? c.dim(time) : time}${who ? `${who}: ` : ''}${colour(level + msg)}`;
}
