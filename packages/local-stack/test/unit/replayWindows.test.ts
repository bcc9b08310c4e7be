import { planWindows } from 'orbiter/shared/ingest/windows';
import { allStreams } from 'orbiter/shared/nasa/sources/index';
import { REPLAY_FALLBACK_START, replayIngestSettings } from '@orbiter/local-stack/replayWindows';

describe('replayIngestSettings', () => {
  const coverage = { fireball: '1988-04-15', epic: '2024-05-31', cmr: '2019-02-20', apod: '2013-10-13' } as const;
  const s = replayIngestSettings(coverage, '2026-12-06');

  it('starts each covered source at its first record and the others at the fallback', () => {
    expect(s.INGEST_START_DATES).toBe('fireball=1988-04-15,epic=2024-05-31,cmr=2019-02-20,apod=2013-10-13');
    expect(s.INGEST_START_DATE).toBe(REPLAY_FALLBACK_START);
  });

  it('allows enough windows for the longest walk to today (CMR day by day since 2019), even past midnight', () => {
    const cmr = allStreams.find((x) => x.source === 'cmr')!;
    const walk = planWindows('2019-02-20', '2026-12-07', cmr.windowing, Number.MAX_SAFE_INTEGER).length;
    expect(walk).toBe(2848);
    expect(Number(s.INGEST_MAX_WINDOWS_PER_RUN)).toBeGreaterThanOrEqual(walk);
    for (const src of allStreams) {
      const start = (coverage as Record<string, string>)[src.source] ?? REPLAY_FALLBACK_START;
      expect(planWindows(start, '2026-12-07', src.windowing, Number(s.INGEST_MAX_WINDOWS_PER_RUN)).at(-1)?.end).toBe('2026-12-07');
    }
  });
});
