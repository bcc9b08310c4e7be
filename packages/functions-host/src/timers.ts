import { Cron } from 'croner';
import type { TimerFunction } from 'orbiter/functions/definition';
import type { Logger } from 'orbiter/shared/logger';
import type { InvocationOutcome, Invoker } from './invoker';

/** Fires a timer function now, as its schedule would. */
export function fireTimer(def: TimerFunction, invoker: Invoker, isPastDue = false): Promise<InvocationOutcome> {
  return invoker.invoke(def.name, {}, (ctx) =>
    def.handler({ isPastDue, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: new Date().toISOString() } }, ctx),
  );
}

/** Starts every timer function on its schedule (%SETTING% resolved); returns how to stop them. */
export function startTimers(
  defs: readonly TimerFunction[],
  resolveSetting: (value: string) => string,
  invoker: Invoker,
  logger: Logger,
): { stop(): void } {
  const crons: Cron[] = [];
  for (const def of defs) {
    const schedule = resolveSetting(def.schedule);
    // Cron with 6 fields is seconds-first, like NCRONTAB; UTC like the Functions host's default (WEBSITE_TIME_ZONE unset).
    const cron = new Cron(schedule, { timezone: 'UTC', protect: true }, () => {
      invoker.track(fireTimer(def, invoker));
    });
    crons.push(cron);
    logger.info('timer scheduled', { fn: def.name, schedule, next: cron.nextRun()?.toISOString() });
    if (def.runOnStartup) invoker.track(fireTimer(def, invoker));
  }
  return {
    stop: () => {
      for (const c of crons) c.stop();
    },
  };
}
