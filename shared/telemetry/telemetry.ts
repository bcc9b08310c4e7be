import { isCallerCancel, TelemetryEvents, TelemetryMetrics } from './names';

/** Dimensions (custom dimensions in Application Insights); undefined values are dropped. */
export type Dims = Record<string, string | number | boolean | undefined>;

export interface SpanHandle {
  /** This span's W3C traceparent: put it in applicationProperties / job parameters to continue the trace. */
  readonly traceparent: string;
  readonly traceId: string;
  setAttribute(key: string, value: string | number | boolean): void;
}

export interface SpanOptions {
  /** Remote parent (from a message or job parameter); otherwise the active span, otherwise a new trace. */
  parent?: string | undefined;
  attributes?: Dims;
}

/**
 * Orbiter's telemetry: spans, custom events and metrics. Code takes a Telemetry as a parameter (no globals);
 * createTelemetry() picks Azure Monitor, local JSON lines or nothing.
 */
export interface Telemetry {
  readonly kind: 'azure' | 'local' | 'noop';
  withSpan<T>(name: string, fn: (span: SpanHandle) => Promise<T> | T, opts?: SpanOptions): Promise<T>;
  event(name: string, dims?: Dims): void;
  /** Adds to a counter. */
  count(name: string, value?: number, dims?: Dims): void;
  /** Records a histogram value. */
  record(name: string, value: number, dims?: Dims): void;
  /** Sets a gauge. */
  gauge(name: string, value: number, dims?: Dims): void;

  runRequested(d: { dataset: string; runId?: string; origin?: string }): void;
  /** `latencyMs`: landed blob → run submitted (the dispatch-latency alert). */
  runDispatched(d: { dataset: string; runId: string; latencyMs?: number }): void;
  /**
   * Emits OrbiterRunCompleted (the failed-run alert reads resultState and terminationCode) and the succeeded/failed
   * counters and duration histogram; a caller's cancel counts as neither.
   */
  runCompleted(d: { dataset: string; runId: string; jobName?: string; resultState: string; terminationCode?: string; durationMs?: number }): void;
  nasaThrottled(d: { source: string; stream?: string }): void;
  /** Emits OrbiterMessageDeadLettered (the dead-lettered-message alert). */
  deadLettered(d: { entity: string; reason: string; messageId?: string }): void;
  /** Emits OrbiterIngestCompleted (the stale-source alert); outcome `success` counts as fresh data. */
  ingestCompleted(d: { source: string; stream?: string; outcome: 'success' | 'failure' | 'partial'; records?: number }): void;
  dataFreshness(d: { source: string; minutes: number }): void;

  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The domain helpers, written once over the five primitives. */
export abstract class BaseTelemetry implements Telemetry {
  abstract readonly kind: 'azure' | 'local' | 'noop';
  abstract withSpan<T>(name: string, fn: (span: SpanHandle) => Promise<T> | T, opts?: SpanOptions): Promise<T>;
  abstract event(name: string, dims?: Dims): void;
  abstract count(name: string, value?: number, dims?: Dims): void;
  abstract record(name: string, value: number, dims?: Dims): void;
  abstract gauge(name: string, value: number, dims?: Dims): void;
  abstract flush(): Promise<void>;
  abstract shutdown(): Promise<void>;

  runRequested(d: { dataset: string; runId?: string; origin?: string }): void {
    this.count(TelemetryMetrics.runsRequested, 1, { dataset: d.dataset, origin: d.origin });
  }

  runDispatched(d: { dataset: string; runId: string; latencyMs?: number }): void {
    this.count(TelemetryMetrics.runsDispatched, 1, { dataset: d.dataset });
    if (d.latencyMs !== undefined && Number.isFinite(d.latencyMs)) {
      this.record(TelemetryMetrics.dispatchLatencyMs, Math.max(0, d.latencyMs), { dataset: d.dataset, runId: d.runId });
    }
  }

  runCompleted(d: { dataset: string; runId: string; jobName?: string; resultState: string; terminationCode?: string; durationMs?: number }): void {
    const ok = d.resultState.toUpperCase() === 'SUCCESS';
    this.event(TelemetryEvents.runCompleted, {
      resultState: d.resultState,
      terminationCode: d.terminationCode,
      dataset: d.dataset,
      runId: d.runId,
      jobName: d.jobName,
    });
    if (ok || !isCallerCancel(d.terminationCode))
      this.count(ok ? TelemetryMetrics.runsSucceeded : TelemetryMetrics.runsFailed, 1, { dataset: d.dataset });
    if (d.durationMs !== undefined) this.record(TelemetryMetrics.runDurationMs, d.durationMs, { dataset: d.dataset, resultState: d.resultState });
  }

  nasaThrottled(d: { source: string; stream?: string }): void {
    this.count(TelemetryMetrics.nasaThrottled, 1, { source: d.source, stream: d.stream });
  }

  deadLettered(d: { entity: string; reason: string; messageId?: string }): void {
    this.event(TelemetryEvents.messageDeadLettered, { entity: d.entity, reason: d.reason, messageId: d.messageId });
    this.count(TelemetryMetrics.deadLetters, 1, { entity: d.entity });
  }

  ingestCompleted(d: { source: string; stream?: string; outcome: 'success' | 'failure' | 'partial'; records?: number }): void {
    this.event(TelemetryEvents.ingestCompleted, { source: d.source, stream: d.stream, outcome: d.outcome, records: d.records });
  }

  dataFreshness(d: { source: string; minutes: number }): void {
    this.gauge(TelemetryMetrics.dataFreshnessMinutes, d.minutes, { source: d.source });
  }
}

/** Drops undefined values (OTel attributes and JSON lines both reject or misrepresent them). */
export function cleanDims(dims: Dims | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(dims ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
