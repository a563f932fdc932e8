import { pino, type Logger } from 'pino';

/** The daemon's own logs: JSON lines on stderr, where journald keeps them. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'sealog' } }, pino.destination({ fd: 2, sync: false }));
}
export type { Logger };
