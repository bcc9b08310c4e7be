/** The emulator's own logger: the same four-method shape as the app's, so a caller may pass either. */
export interface Logger {
  debug(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** pino on stderr, so stdout stays free for the connection string. */
export function createPinoLogger(level: string = process.env['LOG_LEVEL'] ?? 'info', name = 'servicebus-emulator'): Logger {
  const { pino } = require('pino') as typeof import('pino');
  const p = pino({ name, level }, pino.destination(2));
  return {
    debug: (m, meta) => p.debug(meta ?? {}, m),
    info: (m, meta) => p.info(meta ?? {}, m),
    warn: (m, meta) => p.warn(meta ?? {}, m),
    error: (m, meta) => p.error(meta ?? {}, m),
  };
}
