import { addDays, nextWatermark, planWindows } from '../../shared/ingest/windows';

describe('window planning', () => {
  const weekly = { kind: 'dated', maxDays: 7 } as const;
  it('walks 7-day windows from the watermark up to today', () => {
    expect(planWindows('2024-05-25', '2024-06-10', weekly, 10)).toEqual([
      { start: '2024-05-25', end: '2024-05-31' },
      { start: '2024-06-01', end: '2024-06-07' },
      { start: '2024-06-08', end: '2024-06-10' },
    ]);
  });
  it('bounds one cycle to the window limit', () => {
    expect(planWindows('2024-01-01', '2024-12-31', weekly, 2)).toHaveLength(2);
  });
  it('plans nothing when the watermark is past today', () => {
    expect(planWindows('2024-06-11', '2024-06-10', weekly, 10)).toEqual([]);
  });
  it('crosses month and leap-year boundaries', () => {
    expect(planWindows('2024-02-27', '2024-03-02', { kind: 'dated', maxDays: 30 }, 5)).toEqual([{ start: '2024-02-27', end: '2024-03-02' }]);
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
  });
  it('takes snapshots at most once a day', () => {
    expect(planWindows('2024-06-10', '2024-06-10', { kind: 'snapshot' }, 5)).toEqual([{ start: '2024-06-10', end: '2024-06-10' }]);
    expect(nextWatermark({ start: '2024-06-10', end: '2024-06-10' }, '2024-06-10', { kind: 'snapshot' })).toBe('2024-06-11');
  });
  it('keeps an unfinished today open and moves past finished windows', () => {
    expect(nextWatermark({ start: '2024-06-08', end: '2024-06-10' }, '2024-06-10', weekly)).toBe('2024-06-10');
    expect(nextWatermark({ start: '2024-06-01', end: '2024-06-07' }, '2024-06-10', weekly)).toBe('2024-06-08');
  });
});
