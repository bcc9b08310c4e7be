import { QuartzSchedule } from '../../src/jobs/quartz';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('Quartz cron schedules (Databricks job schedules)', () => {
  it('fires at the seconds-minutes-hours given, daily with ? for day-of-week', () => {
    const s = new QuartzSchedule('0 30 2 * * ?', 'UTC');
    expect(iso(s.next(at('2024-01-01T00:00:00Z')))).toBe('2024-01-01T02:30:00.000Z');
    expect(iso(s.next(at('2024-01-01T02:30:00Z')))).toBe('2024-01-02T02:30:00.000Z');
  });

  it('numbers weekdays as Quartz does (1 = Sunday) and knows their names', () => {
    // 2024-01-01 is a Monday.
    expect(iso(new QuartzSchedule('0 0 9 ? * 2', 'UTC').next(at('2024-01-02T00:00:00Z')))).toBe('2024-01-08T09:00:00.000Z');
    expect(iso(new QuartzSchedule('0 0 9 ? * 1', 'UTC').next(at('2024-01-01T00:00:00Z')))).toBe('2024-01-07T09:00:00.000Z');
    expect(iso(new QuartzSchedule('0 0 12 ? * MON-FRI', 'UTC').next(at('2024-01-06T00:00:00Z')))).toBe('2024-01-08T12:00:00.000Z');
  });

  it('supports L (last day of month), the optional year field, steps and time zones', () => {
    expect(iso(new QuartzSchedule('0 0 6 L * ?', 'UTC').next(at('2024-02-01T00:00:00Z')))).toBe('2024-02-29T06:00:00.000Z');
    expect(iso(new QuartzSchedule('0 0 0 1 1 ? 2030', 'UTC').next(at('2024-01-01T00:00:00Z')))).toBe('2030-01-01T00:00:00.000Z');
    expect(iso(new QuartzSchedule('0 0/15 * * * ?', 'UTC').next(at('2024-01-01T00:07:00Z')))).toBe('2024-01-01T00:15:00.000Z');
    expect(iso(new QuartzSchedule('0 5/20 * * * ?', 'UTC').next(at('2024-01-01T00:26:00Z')))).toBe('2024-01-01T00:45:00.000Z');
    // 09:00 in Los Angeles (PST, UTC-8) is 17:00 UTC.
    expect(iso(new QuartzSchedule('0 0 9 * * ?', 'America/Los_Angeles').next(at('2024-01-01T00:00:00Z')))).toBe('2024-01-01T17:00:00.000Z');
  });

  it('refuses what Quartz refuses, naming the expression', () => {
    expect(() => new QuartzSchedule('30 2 * * *', 'UTC')).toThrow(/"30 2 \* \* \*" must have 6 or 7 fields/);
    expect(() => new QuartzSchedule('0 0 9 1 * MON', 'UTC')).toThrow(/one of day-of-month and day-of-week must be '\?'/);
    expect(() => new QuartzSchedule('0 99 9 * * ?', 'UTC')).toThrow(/Invalid Quartz cron expression "0 99 9 \* \* \?"/);
  });
});
