/** The four-method logger every shared/ module takes; structured metadata, never secrets. */
export interface Logger {
  debug(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A pino-backed logger for processes we own (local stack, CLI). Functions log through InvocationContext instead. */
export function createPinoLogger(level: string = process.env['LOG_LEVEL'] ?? 'info', name = 'orbiter'): Logger {
  // Required on first use: function handlers log through their context, so the app's import never loads pino.
  const { pino } = require('pino') as typeof import('pino');
  const p = pino({ name, level }, pino.destination(2));
  return {
    debug: (m, meta) => p.debug(meta ?? {}, m),
    info: (m, meta) => p.info(meta ?? {}, m),
    warn: (m, meta) => p.warn(meta ?? {}, m),
    error: (m, meta) => p.error(meta ?? {}, m),
  };
}

/** Adapts a Functions InvocationContext (or anything with log/warn/error) to Logger. */
export function contextLogger(ctx: {
  debug(...a: unknown[]): void;
  log(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
}): Logger {
  const fmt = (m: string, meta?: Record<string, unknown>): string => (meta ? `${m} ${JSON.stringify(meta)}` : m);
  return {
    debug: (m, meta) => ctx.debug(fmt(m, meta)),
    info: (m, meta) => ctx.log(fmt(m, meta)),
    warn: (m, meta) => ctx.warn(fmt(m, meta)),
    error: (m, meta) => ctx.error(fmt(m, meta)),
  };
}
