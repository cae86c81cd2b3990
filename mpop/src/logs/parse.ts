/** Parsers of what the log readers print on a node: journalctl -o json, dmesg -x, container logs -t, and plain log lines. */

/** LogEntry is one typed log line from a node. */
export interface LogEntry {
  /** when it was logged (ISO 8601, UTC), when the source says */
  time?: string;
  /** the systemd unit (journald), or what logged it when there is no unit */
  unit?: string;
  /** syslog priority, 0 (emerg) to 7 (debug), when the source says */
  priority?: number;
  message: string;
  /** the file a line was read from (file sources) */
  file?: string;
  /** the syslog identifier and pid (journald) */
  identifier?: string;
  pid?: number;
  /** a container's stream (container sources) */
  stream?: 'stdout' | 'stderr';
}

/** LEVELS are syslog's priority names, by number. */
export const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
const LEVEL_ALIAS: Record<string, number> = { emerg: 0, panic: 0, alert: 1, crit: 2, err: 3, error: 3, warn: 4, warning: 4, notice: 5, info: 6, debug: 7 };
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** tzOffsetMinutes reads `date +%z` ("+0100", "-0530") as minutes east of UTC (0 when unreadable). */
export function tzOffsetMinutes(z: string | undefined): number {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec((z ?? '').trim());
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** TimeContext is what reading a node's local times needs: its clock and its zone. */
export interface TimeContext {
  /** the node's time, ms since the epoch */
  nowMs: number;
  /** the node's zone, minutes east of UTC */
  tzMinutes: number;
}

const ISO_AT_START = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?/;
const SYSLOG_AT_START = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})\b/;
const NGINX_ACCESS = /\[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]/;
const NGINX_ERROR = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) \[(\w+)\]/;

const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offMin: number): number => Date.UTC(y, mo, d, h, mi, s, ms) - offMin * 60_000;
const frac = (f: string | undefined): number => (f ? Math.floor(Number(`0.${f}`) * 1000) : 0);

/**
 * lineTime finds the timestamp a log line starts with (RFC 3339 as rsyslog writes it, classic syslog
 * "Dec  2 06:50:53", nginx's error log "2026/12/02 06:50:53 [error]") or carries in brackets (nginx's
 * access log "[02/Dec/2026:06:50:53 +0000]"), in ms since the epoch; a time without a zone is the node's.
 * It also returns a priority when the line names one (nginx's error log).
 */
export function lineTime(line: string, ctx: TimeContext): { ms: number; priority?: number } | undefined {
  let m = ISO_AT_START.exec(line);
  if (m) {
    const off = m[8] ? (m[8] === 'Z' ? 0 : tzOffsetMinutes(m[8])) : ctx.tzMinutes;
    return { ms: utc(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, frac(m[7]), off) };
  }
  m = NGINX_ERROR.exec(line);
  if (m) {
    const p = LEVEL_ALIAS[m[7]!];
    return { ms: utc(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, 0, ctx.tzMinutes), ...(p !== undefined ? { priority: p } : {}) };
  }
  m = SYSLOG_AT_START.exec(line);
  if (m && MONTHS[m[1]!] !== undefined) {
    // Classic syslog has no year: this year's, unless that lands more than a day ahead of the node's clock.
    const year = new Date(ctx.nowMs + ctx.tzMinutes * 60_000).getUTCFullYear();
    let ms = utc(year, MONTHS[m[1]!]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, 0, ctx.tzMinutes);
    if (ms > ctx.nowMs + 86_400_000) ms = utc(year - 1, MONTHS[m[1]!]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, 0, ctx.tzMinutes);
    return { ms };
  }
  m = NGINX_ACCESS.exec(line);
  if (m && MONTHS[m[2]!] !== undefined) return { ms: utc(+m[3]!, MONTHS[m[2]!]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!, 0, tzOffsetMinutes(m[7])) };
  return undefined;
}

/** fileEntries reads plain lines of `file`; a line without a time of its own (a stack trace's) takes the time of the line before. */
export function fileEntries(text: string, file: string, ctx: TimeContext): { entries: LogEntry[]; timed: number } {
  const entries: LogEntry[] = [];
  let last: number | undefined;
  let timed = 0;
  for (const line of splitLines(text)) {
    const t = lineTime(line, ctx);
    if (t) {
      last = t.ms;
      timed++;
    }
    entries.push({ ...(last !== undefined ? { time: new Date(last).toISOString() } : {}), ...(t?.priority !== undefined ? { priority: t.priority } : {}), message: line, file });
  }
  return { entries, timed };
}

/** splitLines cuts output into lines, without the last empty one. */
export function splitLines(text: string): string[] {
  if (!text) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

type JournalField = string | number[] | null | undefined;
const fieldText = (v: JournalField): string | undefined => (v === null || v === undefined ? undefined : Array.isArray(v) ? Buffer.from(v).toString('utf8') : String(v));

/**
 * journalEntry reads one line of `journalctl -o json`: __REALTIME_TIMESTAMP (µs), PRIORITY, _SYSTEMD_UNIT,
 * SYSLOG_IDENTIFIER, _PID and MESSAGE (a string, an array of bytes when not UTF-8, null when too large).
 * It returns undefined for a line that is not a journal entry.
 */
export function journalEntry(line: string): LogEntry | undefined {
  let j: Record<string, JournalField>;
  try {
    j = JSON.parse(line) as Record<string, JournalField>;
  } catch {
    return undefined;
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const us = fieldText(j.__REALTIME_TIMESTAMP);
  const prio = fieldText(j.PRIORITY);
  const pid = fieldText(j._PID) ?? fieldText(j.SYSLOG_PID);
  const ident = fieldText(j.SYSLOG_IDENTIFIER) ?? fieldText(j._COMM);
  const unit = fieldText(j._SYSTEMD_UNIT) ?? fieldText(j.UNIT) ?? (fieldText(j._TRANSPORT) === 'kernel' ? 'kernel' : ident);
  const message = j.MESSAGE === null ? '[message too large for the journal\'s JSON output]' : (fieldText(j.MESSAGE) ?? '');
  const e: LogEntry = { message };
  if (us && /^\d+$/.test(us)) e.time = new Date(Number(BigInt(us) / 1000n)).toISOString();
  if (unit) e.unit = unit;
  if (prio && /^[0-7]$/.test(prio)) e.priority = Number(prio);
  if (ident) e.identifier = ident;
  if (pid && /^\d+$/.test(pid)) e.pid = Number(pid);
  return e;
}

const DMESG_X = /^(\w+)\s*:(\w+)\s*: (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[,.]\d+[+-]\d{2}:?\d{2}) ?(.*)$/;

/** dmesgEntry reads a line of `dmesg -x --time-format iso` ("kern  :info  : 2026-12-02T06:51:02,735912+00:00 msg"). */
export function dmesgEntry(line: string, ctx: TimeContext): LogEntry {
  const m = DMESG_X.exec(line);
  if (!m) return { message: line, unit: 'kernel' };
  const t = lineTime(m[3]!, ctx);
  const p = LEVEL_ALIAS[m[2]!];
  return { ...(t ? { time: new Date(t.ms).toISOString() } : {}), unit: m[1] === 'kern' ? 'kernel' : m[1]!, ...(p !== undefined ? { priority: p } : {}), message: m[4]! };
}

/** containerEntry reads a line of `docker logs -t` / `podman logs -t`: an RFC 3339 time, a space, the line. */
export function containerEntry(line: string, stream: 'stdout' | 'stderr', unit: string, ctx: TimeContext): LogEntry {
  const sp = line.indexOf(' ');
  const t = sp > 0 ? lineTime(line.slice(0, sp), ctx) : undefined;
  return t ? { time: new Date(t.ms).toISOString(), unit, message: line.slice(sp + 1), stream } : { unit, message: line, stream };
}

/** byTime orders entries by time, keeping the order of equal or untimed ones (a stable merge of several files). */
export function byTime(entries: LogEntry[]): LogEntry[] {
  return entries
    .map((e, i) => ({ e, i, t: e.time ? Date.parse(e.time) : undefined }))
    .sort((a, b) => (a.t !== undefined && b.t !== undefined && a.t !== b.t ? a.t - b.t : a.i - b.i))
    .map((x) => x.e);
}
