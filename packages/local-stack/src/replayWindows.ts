import type { SourceId } from 'orbiter/shared/config';
import { addDays, planWindows } from 'orbiter/shared/ingest/windows';
import type { NasaSource } from 'orbiter/shared/nasa/source';
import { allStreams } from 'orbiter/shared/nasa/sources/index';

/** The first window start for sources whose replay corpus is empty (nothing to catch up on). */
export const REPLAY_FALLBACK_START = '2024-05-25';

/**
 * Ingestion settings under which one cycle walks every stream from the replay corpus's first record to today, so
 * the first `npm start -- --once` lands the whole corpus: a start date per source (INGEST_START_DATES) and a window
 * bound (INGEST_MAX_WINDOWS_PER_RUN) covering the longest walk. Two windows of slack cover a cycle that runs past
 * midnight (UTC) after the stack started.
 */
export function replayIngestSettings(
  coverage: Partial<Record<SourceId, string>>,
  today: string,
  streams: readonly NasaSource[] = allStreams,
): { INGEST_START_DATE: string; INGEST_START_DATES: string; INGEST_MAX_WINDOWS_PER_RUN: string } {
  const starts = Object.entries(coverage).filter(([, d]) => d !== undefined && d <= today) as [SourceId, string][];
  const startOf = (s: SourceId): string => coverage[s] ?? REPLAY_FALLBACK_START;
  const longest = Math.max(
    10,
    ...streams.map((s) => planWindows(startOf(s.source), addDays(today, 1), s.windowing, Number.MAX_SAFE_INTEGER).length + 1),
  );
  return {
    INGEST_START_DATE: REPLAY_FALLBACK_START,
    INGEST_START_DATES: starts.map(([s, d]) => `${s}=${d}`).join(','),
    INGEST_MAX_WINDOWS_PER_RUN: String(longest),
  };
}
