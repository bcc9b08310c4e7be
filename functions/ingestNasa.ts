import type { InvocationContext, Timer } from '@azure/functions';
import type { CycleSummary } from '../shared/ingest/ingestCycle';
import { IngestionFailedError } from '../shared/ingest/errors';
import { contextLogger, type Logger } from '../shared/logger';
import type { Telemetry } from '../shared/telemetry/telemetry';
import type { TimerFunction } from './definition';

export interface IngestNasaDeps {
  /** One ingestion cycle over the configured streams; `onThrottled` is told of each 429. */
  ingest(logger: Logger, onThrottled: (url: string) => void): Promise<CycleSummary>;
  telemetry(): Telemetry;
}

/** Timer: pull every configured NASA stream's new windows into the raw zone. */
export const makeIngestNasa =
  (deps: IngestNasaDeps) =>
  async (_timer: Timer, context: InvocationContext): Promise<CycleSummary> => {
    const telemetry = deps.telemetry();
    const summary = await telemetry.withSpan('ingest.cycle', () =>
      deps.ingest(contextLogger(context), (url) => telemetry.nasaThrottled({ source: url })),
    );
    for (const s of summary.streams) {
      const outcome = s.errors.length === 0 ? 'success' : s.windows.length > 0 ? 'partial' : 'failure';
      telemetry.ingestCompleted({ source: s.source, stream: s.stream, outcome, records: s.records });
    }
    await telemetry.flush();
    // A partial failure fails the invocation (so it is retried and alerted on); the summary says which streams.
    if (!summary.ok) throw new IngestionFailedError(summary);
    return summary;
  };

export const ingestNasa = (deps: IngestNasaDeps): TimerFunction => ({
  kind: 'timer',
  name: 'ingestNasa',
  schedule: '%INGEST_SCHEDULE%',
  retry: { strategy: 'exponentialBackoff', maxRetryCount: 3, minimumInterval: 10_000, maximumInterval: 300_000 },
  handler: makeIngestNasa(deps),
});
