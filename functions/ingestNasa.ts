import type { InvocationContext, Timer } from '@azure/functions';
import type { CycleSummary } from '../shared/ingest/ingestCycle';
import { IngestionFailedError } from '../shared/ingest/errors';
import { contextLogger } from '../shared/logger';
import type { TimerFunction } from './definition';
import { runtime } from './runtime';

/** Timer: pull every configured NASA stream's new windows into the raw zone. */
export async function ingestNasaHandler(_timer: Timer, context: InvocationContext): Promise<CycleSummary> {
  // Required here, not at import: the cycle pulls in axios and the NASA sources, which only this timer needs (cold start).

  const { runIngestionCycle } = require('../shared/ingest/ingestCycle') as typeof import('../shared/ingest/ingestCycle');
  const { config, storage, telemetry } = runtime();
  const summary = await telemetry.withSpan('ingest.cycle', () =>
    runIngestionCycle({ config, storage, logger: contextLogger(context), onThrottled: (url) => telemetry.nasaThrottled({ source: url }) }),
  );
  for (const s of summary.streams) {
    const outcome = s.errors.length === 0 ? 'success' : s.windows.length > 0 ? 'partial' : 'failure';
    telemetry.ingestCompleted({ source: s.source, stream: s.stream, outcome, records: s.records });
  }
  await telemetry.flush();
  // A partial failure fails the invocation (so it is retried and alerted on); the summary says which streams.
  if (!summary.ok) throw new IngestionFailedError(summary);
  return summary;
}

export const ingestNasa: TimerFunction = {
  kind: 'timer',
  name: 'ingestNasa',
  schedule: '%INGEST_SCHEDULE%',
  retry: { strategy: 'exponentialBackoff', maxRetryCount: 3, minimumInterval: 10_000, maximumInterval: 300_000 },
  handler: ingestNasaHandler,
};
