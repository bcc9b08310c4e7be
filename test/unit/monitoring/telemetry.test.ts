import { mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childTraceparent,
  createTelemetry,
  createTraceparent,
  LocalTelemetry,
  parseTraceparent,
  readTelemetry,
  TelemetryEvents,
  TelemetryMetrics,
  traceparentFrom,
  withTraceparent,
} from '../../../shared/telemetry';
import { run } from '../../../packages/ops/test/unit/fakes';

describe('traceparent', () => {
  it('creates valid sampled root contexts, unique per call', () => {
    const a = createTraceparent();
    const b = createTraceparent();
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(parseTraceparent(a)).toEqual(expect.objectContaining({ flags: 1 }));
    expect(parseTraceparent(a)!.traceId).not.toBe(parseTraceparent(b)!.traceId);
  });

  it('children keep the trace id and get a new span id', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const child = parseTraceparent(childTraceparent(parent))!;
    expect(child.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child.spanId).not.toBe('00f067aa0ba902b7');
  });

  it('rejects malformed or all-zero contexts; a bad parent starts a new trace', () => {
    for (const bad of [
      undefined,
      42,
      '',
      'x',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
    expect(parseTraceparent(childTraceparent('garbage'))).toBeDefined();
  });

  it('travels in application properties', () => {
    const tp = createTraceparent();
    const props = withTraceparent({ runId: 'r1' }, tp);
    expect(props).toEqual({ runId: 'r1', traceparent: tp });
    expect(traceparentFrom(props)).toBe(tp);
    expect(traceparentFrom({ traceparent: 'nope' })).toBeUndefined();
    expect(traceparentFrom(undefined)).toBeUndefined();
  });
});

describe('LocalTelemetry', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'orbiter-tel-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes events and metrics with the names the alert rules query', async () => {
    const t = new LocalTelemetry(dir, () => new Date('2026-11-24T10:00:00Z'));
    t.runCompleted({ dataset: 'neows', runId: 'r1', resultState: 'FAILED', durationMs: 1200 });
    t.runDispatched({ dataset: 'neows', runId: 'r1', latencyMs: 5000 });
    t.deadLettered({ entity: 'run-requests', reason: 'MaxDeliveryCountExceeded' });
    t.ingestCompleted({ source: 'apod', outcome: 'success', records: 3 });
    const recs = readTelemetry(dir);
    expect(recs.find((r) => r.name === TelemetryEvents.runCompleted)).toMatchObject({
      type: 'event',
      dims: { resultState: 'FAILED', dataset: 'neows', runId: 'r1' },
    });
    expect(recs.find((r) => r.name === TelemetryMetrics.dispatchLatencyMs)).toMatchObject({
      type: 'histogram',
      value: 5000,
      dims: { dataset: 'neows' },
    });
    expect(recs.find((r) => r.name === TelemetryMetrics.runsFailed)).toMatchObject({ value: 1 });
    expect(recs.find((r) => r.name === TelemetryEvents.messageDeadLettered)).toMatchObject({ dims: { entity: 'run-requests' } });
    expect(recs.find((r) => r.name === TelemetryEvents.ingestCompleted)).toMatchObject({ dims: { source: 'apod', outcome: 'success' } });
  });

  it("carries the termination code; a caller's cancel is not counted as a failed run", () => {
    const t = new LocalTelemetry(dir, () => new Date('2026-11-24T10:00:00Z'));
    t.runCompleted({ dataset: 'neows', runId: 'c1', resultState: 'CANCELED', terminationCode: 'USER_CANCELED' });
    const recs = readTelemetry(dir);
    expect(recs.find((r) => r.name === TelemetryEvents.runCompleted)).toMatchObject({
      dims: { resultState: 'CANCELED', terminationCode: 'USER_CANCELED', runId: 'c1' },
    });
    expect(recs.filter((r) => r.name === TelemetryMetrics.runsFailed)).toEqual([]);
  });

  it('nests spans in one trace, continues a remote parent, records errors', async () => {
    const t = new LocalTelemetry(dir);
    const parent = createTraceparent();
    let inner = '';
    await t.withSpan(
      'dispatch',
      async (outer) => {
        await t.withSpan('run-now', (s) => {
          inner = s.traceparent;
          t.event('X');
        });
        outer.setAttribute('dataset', 'neows');
      },
      { parent },
    );
    await expect(
      t.withSpan('boom', () => {
        throw new Error('bad');
      }),
    ).rejects.toThrow('bad');
    const recs = readTelemetry(dir);
    const spans = recs.filter((r) => r.type === 'span');
    const outer = spans.find((s) => s.name === 'dispatch')!;
    const child = spans.find((s) => s.name === 'run-now')!;
    expect(outer.traceId).toBe(parseTraceparent(parent)!.traceId);
    expect(outer.parentSpanId).toBe(parseTraceparent(parent)!.spanId);
    expect(outer.dims).toEqual({ dataset: 'neows' });
    expect(child.traceId).toBe(outer.traceId);
    expect(child.parentSpanId).toBe(outer.spanId);
    expect(parseTraceparent(inner)!.spanId).toBe(child.spanId);
    expect(recs.find((r) => r.name === 'X')!.spanId).toBe(child.spanId);
    expect(spans.find((s) => s.name === 'boom')).toMatchObject({ status: 'error', error: 'bad' });
  });

  it('reader skips malformed lines and honours since', () => {
    const t = new LocalTelemetry(dir, () => new Date('2026-11-24T10:00:00Z'));
    t.event('A');
    appendFileSync(join(dir, '2026-11-24.jsonl'), '{torn\n{"ts":"2026-11-24T11:00:00Z","type":"event","name":"B"}\n');
    expect(readTelemetry(dir).map((r) => r.name)).toEqual(['A', 'B']);
    expect(readTelemetry(dir, new Date('2026-11-24T10:30:00Z')).map((r) => r.name)).toEqual(['B']);
  });

  it('createTelemetry picks local with a folder and no-op without', () => {
    expect(createTelemetry({ localDir: dir }).kind).toBe('local');
    expect(createTelemetry({}).kind).toBe('noop');
  });
});

describe('AzureTelemetry over the OpenTelemetry API', () => {
  it('emits through the (here no-op) global providers and keeps a remote parent trace id', async () => {
    const { AzureTelemetry } = require('../../../shared/telemetry/azure') as typeof import('../../../shared/telemetry/azure');
    let shut = false;
    const t = new AzureTelemetry(async () => {
      shut = true;
    });
    t.runCompleted({ dataset: 'neows', runId: 'r', resultState: 'SUCCESS', durationMs: 3 });
    t.runDispatched({ dataset: 'neows', runId: 'r', latencyMs: 10 });
    t.dataFreshness({ source: 'apod', minutes: 5 });
    const parent = createTraceparent();
    // Without a registered SDK the API returns a non-recording span that carries the parent's context.
    const tp = await t.withSpan('x', (s) => s.traceparent, { parent });
    expect(parseTraceparent(tp)!.traceId).toBe(parseTraceparent(parent)!.traceId);
    await t.shutdown();
    expect(shut).toBe(true);
  });
});

describe('run-record adapters', () => {
  it('derive dispatch latency, duration and result state from the record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orbiter-tel-'));
    try {
      const t = new LocalTelemetry(dir);

      const { reportRunDispatched, reportRunCompleted, reportRunRequested } =
        require('../../../shared/telemetry') as typeof import('../../../shared/telemetry');
      const rec = run({
        runId: 'r1',
        firstLandedAt: '2026-11-24T10:00:00.000Z',
        dispatchedAt: '2026-11-24T10:00:30.000Z',
        startedAt: '2026-11-24T10:01:00.000Z',
        endedAt: '2026-11-24T10:04:00.000Z',
        state: 'failed',
      });
      reportRunRequested(t, rec);
      expect(reportRunDispatched(t, rec)).toEqual({ latencyMs: 30_000 });
      expect(reportRunCompleted(t, rec)).toEqual({ resultState: 'FAILED', durationMs: 180_000 });
      expect(reportRunDispatched(t, run({ runId: 'r2' }))).toEqual({});
      const recs = readTelemetry(dir);
      expect(recs.map((r) => r.name)).toEqual([
        'orbiter_runs_requested',
        'orbiter_runs_dispatched',
        'orbiter_dispatch_latency_ms',
        'OrbiterRunCompleted',
        'orbiter_runs_failed',
        'orbiter_run_duration_ms',
        'orbiter_runs_dispatched',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
