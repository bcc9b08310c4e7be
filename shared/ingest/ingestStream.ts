import { ensureError, UpstreamShapeError } from '../errors';
import type { QuarantineArgs } from '../lake/quarantine';
import type { RawLake } from '../lake/rawLake';
import type { Logger } from '../logger';
import type { NasaSource, SourceContext, Window } from '../nasa/source';
import { nextWatermark, planWindows } from './windows';
import type { WatermarkStore } from './watermarks';

export interface StreamSummary {
  source: string;
  stream: string;
  windows: Window[];
  records: number;
  bytes: number;
  blobsWritten: number;
  blobsSkipped: number;
  /** Pages that came back with no records (not landed). */
  emptyPages: number;
  landed: string[];
  quarantined: string[];
  errors: string[];
  watermark?: string;
}

export interface IngestDeps {
  lake: RawLake;
  quarantine: (args: QuarantineArgs) => Promise<string>;
  watermarks: WatermarkStore;
  ctx: SourceContext;
  logger: Logger;
  today: string;
  defaultStart: string;
  maxWindows: number;
  /** Called after each window, for progress output on long cycles. */
  onProgress?: (s: StreamSummary, w: Window) => void;
}

/**
 * One stream, one cycle: walk windows forward from the watermark. The watermark moves only after every page of a
 * window has landed, and landing is content-addressed, so a crash anywhere re-fetches at most one window (plus the
 * empty windows just before it) and writes nothing twice. Windows that landed nothing move the watermark together,
 * with the next window that lands or at the end of the walk (a failed window included): a backfill over years of empty days is not one table
 * write per day.
 */
export async function ingestStream(src: NasaSource, deps: IngestDeps, range?: { from: string; to: string }): Promise<StreamSummary> {
  const summary: StreamSummary = {
    source: src.source,
    stream: src.stream,
    windows: [],
    records: 0,
    bytes: 0,
    blobsWritten: 0,
    blobsSkipped: 0,
    emptyPages: 0,
    landed: [],
    quarantined: [],
    errors: [],
  };
  // A backfill walks an explicit range and leaves the watermark alone.
  const mark = range ? undefined : await deps.watermarks.get(src.source, src.stream);
  let etag = mark?.etag;
  const start = range?.from ?? mark?.nextStart ?? deps.defaultStart;
  const end = range?.to ?? deps.today;
  const windows = planWindows(start, end, src.windowing, range ? Number.MAX_SAFE_INTEGER : deps.maxWindows);
  let pending: string | undefined; // a watermark past empty windows, not written yet (the next write covers them)
  const advance = async (next: string): Promise<void> => {
    etag = await deps.watermarks.set(src.source, src.stream, next, etag);
    summary.watermark = next;
    pending = undefined;
  };

  for (const window of windows) {
    let lastPage: number | undefined;
    const landedBefore = summary.blobsWritten + summary.blobsSkipped;
    try {
      for await (const page of src.fetchWindow(window, deps.ctx)) {
        lastPage = page.page;
        // An empty window is recorded by the watermark, not landed: an empty blob would only start empty runs.
        if (page.recordCount === 0) {
          summary.emptyPages++;
          continue;
        }
        const res = await deps.lake.land({
          source: src.source,
          stream: src.stream,
          window,
          ...(page.page === undefined ? {} : { page: page.page }),
          body: page.body,
          recordCount: page.recordCount,
        });
        summary.records += page.recordCount;
        summary.bytes += res.bytes;
        if (res.written) {
          summary.blobsWritten++;
          summary.landed.push(res.blobName);
        } else summary.blobsSkipped++;
      }
    } catch (err) {
      const e = ensureError(err);
      summary.errors.push(`${window.start}..${window.end}: ${e.message}`);
      if (e instanceof UpstreamShapeError) {
        const raw = e.rawBody;
        const name = await deps.quarantine({
          source: src.source,
          stream: src.stream,
          window,
          ...(lastPage === undefined ? {} : { page: lastPage + 1 }),
          body: raw,
          reason: e.message,
        });
        summary.quarantined.push(name);
      }
      deps.logger.error('ingestion window failed', { source: src.source, stream: src.stream, window, error: e.message });
      break; // later windows wait: the watermark must not skip over a failed one
    }
    summary.windows.push(window);
    const next = nextWatermark(window, deps.today, src.windowing);
    if (!range) {
      if (summary.blobsWritten + summary.blobsSkipped > landedBefore) await advance(next);
      else pending = next;
    }
    deps.onProgress?.(summary, window);
  }
  if (pending !== undefined) await advance(pending);
  return summary;
}
