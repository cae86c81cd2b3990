import pino, { Logger } from 'pino';

/**
 * logger returns vssh's pino logger: JSON lines on stderr (level from VSSH_LOG_LEVEL, default info).
 * Callers log who asked, the verb, the result and the duration; never file contents, command arguments
 * past the program name, environment values or keys.
 */
export function logger(name = 'vssh'): Logger {
  return pino({ name, level: process.env.VSSH_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, pino.destination(2));
}

/** silentLogger discards everything (library use without a daemon log). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type { Logger };
