import pino, { Logger } from 'pino';

/** logger returns a pino logger writing JSON lines to stderr (level from WIRE_LOG_LEVEL, default info). */
export function logger(name: string): Logger {
  return pino({ name, level: process.env.WIRE_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, pino.destination(2));
}
