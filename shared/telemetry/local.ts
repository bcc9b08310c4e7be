import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BaseTelemetry, cleanDims, type Dims, type SpanHandle, type SpanOptions } from './telemetry';
import { newSpanId, newTraceId, formatTraceparent, parseTraceparent, type TraceContext } from './traceparent';
import type { TelemetryRecord } from './records';

/**
 * Local telemetry: one JSON object per line appended to `<dir>/<yyyy-mm-dd>.jsonl` (UTC day of the record), read by the
 * local dashboard and alert evaluator (readTelemetry). Appends are synchronous and small, so lines from several
 * processes (functions host, CLI) do not interleave.
 */
export class LocalTelemetry extends BaseTelemetry {
  readonly kind = 'local' as const;
  private readonly active = new AsyncLocalStorage<TraceContext>();

  constructor(
    private readonly dir: string,
    private readonly now: () => Date = () => new Date(),
    private readonly service = 'orbiter',
  ) {
    super();
    mkdirSync(dir, { recursive: true });
  }

  private write(r: Omit<TelemetryRecord, 'ts' | 'service'> & { ts?: string }): void {
    const ts = r.ts ?? this.now().toISOString();
    const line: TelemetryRecord = { ...r, ts, service: this.service };
    const ctx = this.active.getStore();
    if (ctx && r.type !== 'span' && !line.traceId) {
      line.traceId = ctx.traceId;
      line.spanId = ctx.spanId;
    }
    appendFileSync(join(this.dir, `${ts.slice(0, 10)}.jsonl`), `${JSON.stringify(line)}\n`);
  }

  async withSpan<T>(name: string, fn: (span: SpanHandle) => Promise<T> | T, opts: SpanOptions = {}): Promise<T> {
    const parent = parseTraceparent(opts.parent) ?? this.active.getStore();
    const ctx: TraceContext = { traceId: parent?.traceId ?? newTraceId(), spanId: newSpanId(), flags: parent?.flags ?? 1 };
    const attrs = cleanDims(opts.attributes);
    const handle: SpanHandle = {
      traceparent: formatTraceparent(ctx),
      traceId: ctx.traceId,
      setAttribute: (k, v) => {
        attrs[k] = v;
      },
    };
    const start = this.now();
    let status: 'ok' | 'error' = 'ok';
    let error: string | undefined;
    try {
      return await this.active.run(ctx, () => fn(handle));
    } catch (err) {
      status = 'error';
      error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      this.write({
        ts: start.toISOString(),
        type: 'span',
        name,
        dims: attrs,
        traceId: ctx.traceId,
        spanId: ctx.spanId,
        ...(parent ? { parentSpanId: parent.spanId } : {}),
        durationMs: this.now().getTime() - start.getTime(),
        status,
        ...(error !== undefined ? { error } : {}),
      });
    }
  }

  event(name: string, dims?: Dims): void {
    this.write({ type: 'event', name, dims: cleanDims(dims) });
  }
  count(name: string, value = 1, dims?: Dims): void {
    this.write({ type: 'counter', name, value, dims: cleanDims(dims) });
  }
  record(name: string, value: number, dims?: Dims): void {
    this.write({ type: 'histogram', name, value, dims: cleanDims(dims) });
  }
  gauge(name: string, value: number, dims?: Dims): void {
    this.write({ type: 'gauge', name, value, dims: cleanDims(dims) });
  }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** Telemetry that goes nowhere (tests, or no destination configured); spans still produce valid trace context. */
export class NoopTelemetry extends BaseTelemetry {
  readonly kind = 'noop' as const;
  private readonly active = new AsyncLocalStorage<TraceContext>();
  async withSpan<T>(_name: string, fn: (span: SpanHandle) => Promise<T> | T, opts: SpanOptions = {}): Promise<T> {
    const parent = parseTraceparent(opts.parent) ?? this.active.getStore();
    const ctx: TraceContext = { traceId: parent?.traceId ?? newTraceId(), spanId: newSpanId(), flags: parent?.flags ?? 1 };
    return this.active.run(ctx, () => fn({ traceparent: formatTraceparent(ctx), traceId: ctx.traceId, setAttribute() {} }));
  }
  event(): void {}
  count(): void {}
  record(): void {}
  gauge(): void {}
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
