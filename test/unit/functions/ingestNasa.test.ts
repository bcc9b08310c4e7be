import { makeIngestNasa } from '../../../functions/ingestNasa';
import type { CycleSummary } from '../../../shared/ingest/ingestCycle';
import type { StreamSummary } from '../../../shared/ingest/ingestStream';
import { NoopTelemetry } from '../../../shared/telemetry';
import { invocation } from '../../support/invocation';

const stream = (source: string, o: Partial<StreamSummary> = {}): StreamSummary => ({
  source,
  stream: 'feed',
  windows: [{ start: '2024-05-25', end: '2024-05-25' }],
  records: 3,
  bytes: 100,
  blobsWritten: 1,
  blobsSkipped: 0,
  emptyPages: 0,
  landed: [],
  quarantined: [],
  errors: [],
  ...o,
});

/** Telemetry that keeps what the handler reports. */
class RecordingTelemetry extends NoopTelemetry {
  readonly ingests: unknown[] = [];
  readonly throttled: unknown[] = [];
  flushed = 0;
  override ingestCompleted(d: { source: string; stream?: string; outcome: 'success' | 'failure' | 'partial'; records?: number }): void {
    this.ingests.push(d);
  }
  override nasaThrottled(d: { source: string }): void {
    this.throttled.push(d);
  }
  override async flush(): Promise<void> {
    this.flushed++;
    await Promise.resolve();
  }
}

function handlerFor(summary: CycleSummary) {
  const telemetry = new RecordingTelemetry();
  const handler = makeIngestNasa({
    ingest: (_logger, onThrottled) => {
      onThrottled('https://api.nasa.gov/neo/rest/v1/feed');
      return Promise.resolve(summary);
    },
    telemetry: () => telemetry,
  });
  return { handler, telemetry };
}

const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

describe('ingestNasa', () => {
  it('runs one cycle and reports each stream, throttling included', async () => {
    const summary: CycleSummary = { startedAt: 't0', finishedAt: 't1', ok: true, streams: [stream('neows'), stream('apod', { records: 0 })] };
    const { handler, telemetry } = handlerFor(summary);
    await expect(handler(timer, invocation('ingestNasa'))).resolves.toBe(summary);
    expect(telemetry.ingests).toEqual([
      { source: 'neows', stream: 'feed', outcome: 'success', records: 3 },
      { source: 'apod', stream: 'feed', outcome: 'success', records: 0 },
    ]);
    expect(telemetry.throttled).toEqual([{ source: 'https://api.nasa.gov/neo/rest/v1/feed' }]);
    expect(telemetry.flushed).toBe(1);
  });

  it('a stream that failed fails the invocation (retried, alerted on), after the telemetry went out', async () => {
    const summary: CycleSummary = {
      startedAt: 't0',
      finishedAt: 't1',
      ok: false,
      streams: [stream('neows'), stream('donki', { errors: ['HTTP 503'] }), stream('eonet', { errors: ['HTTP 500'], windows: [] })],
    };
    const { handler, telemetry } = handlerFor(summary);
    await expect(handler(timer, invocation('ingestNasa'))).rejects.toMatchObject({
      code: 'UpstreamHttpError',
      message: expect.stringContaining('donki/feed: HTTP 503') as string,
    });
    expect(telemetry.ingests.map((i) => (i as { outcome: string }).outcome)).toEqual(['success', 'partial', 'failure']);
    expect(telemetry.flushed).toBe(1);
  });
});
