import type { Window, Windowing } from '../nasa/source';

const DAY_MS = 86_400_000;

export function toIsoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function addDays(isoDate: string, days: number): string {
  return toIsoDate(new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * DAY_MS));
}

export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

/**
 * Windows still to fetch, from the watermark (first day not yet complete) up to today, at most `limit` of them.
 * Today's window is always re-fetched until the day is over: its content grows, and a changed body lands as a new version.
 */
export function planWindows(nextStart: string, today: string, windowing: Windowing, limit: number): Window[] {
  if (windowing.kind === 'snapshot') return nextStart <= today ? [{ start: today, end: today }] : [];
  const out: Window[] = [];
  let start = nextStart;
  while (start <= today && out.length < limit) {
    const end = [addDays(start, windowing.maxDays - 1), today].sort()[0]!;
    out.push({ start, end });
    start = addDays(end, 1);
  }
  return out;
}

/** The watermark after a window landed whole: past the window, except that an unfinished today stays open. */
export function nextWatermark(window: Window, today: string, windowing: Windowing): string {
  if (windowing.kind === 'snapshot') return addDays(today, 1);
  return window.end >= today ? window.end : addDays(window.end, 1);
}
