import type { RunRequest } from '../messages/runRequest';

// Coalescing rules: which batch a landed input joins, and when a batch is ready to become a run.

/**
 * Inputs of one ingestion cycle that land within this long of its start join the cycle's batch, whatever window
 * boundary they cross: a burst of blobs (365 fireball years in one cycle) becomes one run, not two runs cut at an
 * arbitrary edge. Later ones (a backfill that runs for hours) coalesce by their own time again.
 */
export const BURST_MS = 60_000;

/**
 * How long a burst must have been quiet (nothing added to its batch) before the batch runs. The dispatcher takes
 * requests off the queue in batches of up to 500, so a burst still landing reaches it in steps: measured locally,
 * quiet measured from the requests' own times and half a second long cut fireball's burst in two.
 */
export const QUIET_MS = 2000;

/** Time after a window's end during which late requests still join its batch. */
export function graceMs(windowMs: number): number {
  return Math.min(2000, Math.max(250, windowMs / 4));
}

/**
 * The batch (bucket) of a landed-blob request: its ingestion cycle's window when the request carries a cycle start
 * it landed soon after, else its own time's window. Computed from the request alone, so a redelivery joins the same
 * batch. A window of 0 (coalescing off) keeps one batch per request.
 */
export function bucketOf(req: Pick<RunRequest, 'requestedAt' | 'cycleStartedAt'>, windowMs: number): number {
  const at = Date.parse(req.requestedAt);
  if (windowMs === 0) return at;
  const cycle = req.cycleStartedAt ? Date.parse(req.cycleStartedAt) : Number.NaN;
  // A cycle start after the request, or long before it, is not this burst (or not true): the request's own time.
  const anchor = at - cycle >= 0 && at - cycle <= BURST_MS ? cycle : at;
  return Math.floor(anchor / windowMs) * windowMs;
}

/** When a batch's first flush is due: the window's end plus the grace for stragglers (at once for an old window). */
export function flushDue(bucket: number, windowMs: number, now: Date): Date {
  return new Date(Math.max(now.getTime(), bucket + windowMs + graceMs(windowMs)));
}

/**
 * A cycle's burst that is still landing after its window ended (it joined the batch by its cycle start) waits until
 * none has arrived for QUIET_MS, so that one run takes all of it; never longer than BURST_MS past the window's
 * end. A batch whose inputs all arrived within its window is ready at the window's end plus grace, as before.
 * Returns when to look again, or undefined when the batch is ready. Arrival is when the dispatcher added the input,
 * else the blob's landing time.
 */
export function stillLanding(
  items: readonly { acceptedAt?: string | undefined; landedAt?: string | undefined }[],
  bucket: number,
  windowMs: number,
  now: Date,
): Date | undefined {
  if (windowMs === 0) return undefined;
  const newest = Math.max(...items.map((i) => Date.parse(i.acceptedAt ?? i.landedAt ?? '')).filter((t) => !Number.isNaN(t)));
  if (!Number.isFinite(newest) || newest < bucket + windowMs) return undefined;
  const quietAt = newest + QUIET_MS;
  const limit = bucket + windowMs + graceMs(windowMs) + BURST_MS;
  return quietAt > now.getTime() && now.getTime() < limit ? new Date(Math.min(quietAt, limit)) : undefined;
}
