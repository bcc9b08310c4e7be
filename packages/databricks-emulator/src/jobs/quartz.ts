import { Cron } from 'croner';

/**
 * A Databricks schedule's Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year];
 * `?`, `L`, `W`, `#`, names; day-of-week 1 = Sunday) in its Java timezone id, as a croner pattern. croner's
 * Quartz weekday numbering and 6-or-7-part mode give the same fire times as Quartz; anything croner cannot
 * parse is refused with a message naming the expression.
 */
export class QuartzSchedule {
  private readonly cron: Cron;

  constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    const fields = expression.trim().split(/\s+/);
    if (fields.length < 6 || fields.length > 7) {
      throw new RangeError(
        `Quartz cron expression "${expression}" must have 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year])`,
      );
    }
    if (fields[3] !== '?' && fields[5] !== '?') {
      throw new RangeError(`Quartz cron expression "${expression}": one of day-of-month and day-of-week must be '?'`);
    }
    try {
      this.cron = new Cron(fields.join(' '), { timezone, alternativeWeekdays: true, sloppyRanges: true, mode: '6-or-7-parts', paused: true });
    } catch (err) {
      throw new RangeError(`Invalid Quartz cron expression "${expression}" (timezone ${timezone}): ${(err as Error).message}`);
    }
  }

  /** The first fire time strictly after `after` (epoch ms), or undefined when the schedule never fires again. */
  next(after: number): number | undefined {
    return this.cron.nextRun(new Date(after))?.getTime();
  }
}
