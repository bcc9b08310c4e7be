import { context, metrics, trace, SpanStatusCode, type Counter, type Gauge, type Histogram, type Meter, type Tracer } from '@opentelemetry/api';
import { logs, type Logger as OtelLogger } from '@opentelemetry/api-logs';
import { BaseTelemetry, cleanDims, type Dims, type SpanHandle, type SpanOptions } from './telemetry';
import { formatTraceparent, parseTraceparent } from './traceparent';

/** Application Insights turns a log record with this attribute into a customEvents row named by its value. */
const CustomEventNameAttribute = 'microsoft.custom_event.name';

/**
 * Azure Monitor telemetry over the OpenTelemetry API. useAzureMonitor() registers the global tracer, meter and
 * logger providers (once per process); events become customEvents, metrics customMetrics, spans requests/dependencies.
 */
export class AzureTelemetry extends BaseTelemetry {
  readonly kind = 'azure' as const;
  private readonly tracer: Tracer;
  private readonly meter: Meter;
  private readonly logger: OtelLogger;
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly gauges = new Map<string, Gauge>();

  constructor(
    private readonly shutdownFn: () => Promise<void>,
    scope = 'orbiter',
  ) {
    super();
    this.tracer = trace.getTracer(scope);
    this.meter = metrics.getMeter(scope);
    this.logger = logs.getLogger(scope);
  }

  async withSpan<T>(name: string, fn: (span: SpanHandle) => Promise<T> | T, opts: SpanOptions = {}): Promise<T> {
    const remote = parseTraceparent(opts.parent);
    const parentCtx = remote
      ? trace.setSpanContext(context.active(), { traceId: remote.traceId, spanId: remote.spanId, traceFlags: remote.flags, isRemote: true })
      : context.active();
    return this.tracer.startActiveSpan(name, { attributes: cleanDims(opts.attributes) }, parentCtx, async (span) => {
      const sc = span.spanContext();
      const handle: SpanHandle = {
        traceparent: formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags }),
        traceId: sc.traceId,
        setAttribute: (k, v) => {
          span.setAttribute(k, v);
        },
      };
      try {
        const out = await fn(handle);
        span.setStatus({ code: SpanStatusCode.OK });
        return out;
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  event(name: string, dims?: Dims): void {
    this.logger.emit({ body: name, attributes: { ...cleanDims(dims), [CustomEventNameAttribute]: name } });
  }

  count(name: string, value = 1, dims?: Dims): void {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = this.meter.createCounter(name)));
    c.add(value, cleanDims(dims));
  }

  record(name: string, value: number, dims?: Dims): void {
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = this.meter.createHistogram(name)));
    h.record(value, cleanDims(dims));
  }

  gauge(name: string, value: number, dims?: Dims): void {
    let g = this.gauges.get(name);
    if (!g) this.gauges.set(name, (g = this.meter.createGauge(name)));
    g.record(value, cleanDims(dims));
  }

  async flush(): Promise<void> {
    // The SDK exports on its own schedule; shutdown() flushes everything before a process exits.
  }

  shutdown(): Promise<void> {
    return this.shutdownFn();
  }
}
