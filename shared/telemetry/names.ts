/**
 * Telemetry names. The custom events and `orbiter_dispatch_latency_ms` are read by infra/alerts/alert-rules.json
 * (KQL in Azure, local/alerts locally): change both sides together (see infra/alerts/README.md).
 */
export const TelemetryEvents = {
  runCompleted: 'OrbiterRunCompleted',
  messageDeadLettered: 'OrbiterMessageDeadLettered',
  ingestCompleted: 'OrbiterIngestCompleted',
} as const;

export const TelemetryMetrics = {
  runsRequested: 'orbiter_runs_requested',
  runsDispatched: 'orbiter_runs_dispatched',
  runsSucceeded: 'orbiter_runs_succeeded',
  runsFailed: 'orbiter_runs_failed',
  runDurationMs: 'orbiter_run_duration_ms',
  dispatchLatencyMs: 'orbiter_dispatch_latency_ms',
  nasaThrottled: 'orbiter_nasa_throttled',
  deadLetters: 'orbiter_dead_letters',
  dataFreshnessMinutes: 'orbiter_data_freshness_minutes',
} as const;

export type TelemetryEventName = (typeof TelemetryEvents)[keyof typeof TelemetryEvents];
export type TelemetryMetricName = (typeof TelemetryMetrics)[keyof typeof TelemetryMetrics];

/**
 * Databricks termination codes of a run a caller cancelled (runs/cancel, the Run API's cancel): an outcome someone
 * asked for, so not a failure alert. `CANCELED` alone is the platform's (e.g. a timeout) and still alerts.
 */
export const CallerCancelTerminationCodes: readonly string[] = ['USER_CANCELED'];
export const isCallerCancel = (terminationCode: string | undefined): boolean =>
  terminationCode !== undefined && CallerCancelTerminationCodes.includes(terminationCode.toUpperCase());

/** Job parameter and Service Bus application property carrying the W3C trace context. */
export const TraceparentKey = 'traceparent';
