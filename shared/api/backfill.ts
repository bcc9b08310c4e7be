import type { SourceId } from '../config';
import { streamsFor } from '../nasa/sources';
import type { Window } from '../nasa/source';

const DAY = 86_400_000;
const day = (s: string): number => Date.parse(`${s}T00:00:00Z`);
const iso = (t: number): string => new Date(t).toISOString().slice(0, 10);

export function daysBetween(from: string, to: string): number {
  return Math.round((day(to) - day(from)) / DAY) + 1;
}

/**
 * Backfill window length of a dataset: the ingestion windowing of its streams (the smallest when streams differ),
 * so one backfill run covers what one ingestion window landed. Snapshot streams (meteorites) take one day per window.
 */
export function backfillWindowDays(dataset: SourceId): number {
  const days = streamsFor([dataset]).map((s) => (s.windowing.kind === 'dated' ? s.windowing.maxDays : 1));
  return days.length > 0 ? Math.min(...days) : 1;
}

/** Consecutive windows of `size` days from `from`, the last one cut at `to` (all inclusive, UTC days). */
export function planWindows(from: string, to: string, size: number): Window[] {
  const out: Window[] = [];
  for (let t = day(from); t <= day(to); t += size * DAY) {
    out.push({ start: iso(t), end: iso(Math.min(t + (size - 1) * DAY, day(to))) });
  }
  return out;
}

/** The stream prefixes in raw/ of a dataset, per year the range touches: few listings even for long ranges. */
export function rawPrefixes(dataset: SourceId, from: string, to: string): string[] {
  const years: number[] = [];
  for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)); y++) years.push(y);
  return streamsFor([dataset]).flatMap((s) => years.map((y) => `${s.source}/${s.stream}/${y}/`));
}

/** The window-start date a raw blob was landed under (<source>/<stream>/<yyyy>/<mm>/<dd>/...). */
export function blobDate(name: string): string | undefined {
  const m = /^[^/]+\/[^/]+\/(\d{4})\/(\d{2})\/(\d{2})\//.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}
