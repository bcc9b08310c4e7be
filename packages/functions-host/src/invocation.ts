import { randomUUID } from 'node:crypto';
import { InvocationContext, type LogLevel } from '@azure/functions';
import type { Logger } from 'orbiter/shared/logger';

/** An InvocationContext like the real host's, its logs routed to the stack's logger. */
export function makeContext(functionName: string, logger: Logger, triggerMetadata: Record<string, unknown> = {}): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName,
    triggerMetadata,
    logHandler: (level: LogLevel, ...args: unknown[]) => {
      const msg = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      const meta = { fn: functionName };
      if (level === 'error' || level === 'critical') logger.error(msg, meta);
      else if (level === 'warning') logger.warn(msg, meta);
      else if (level === 'debug' || level === 'trace') logger.debug(msg, meta);
      else logger.info(msg, meta);
    },
  });
}
