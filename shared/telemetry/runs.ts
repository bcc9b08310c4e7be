import type { RunRecord } from '../runs/runStore';
import type { Telemetry } from './telemetry';

/**
 * Run-record adapters for the dispatcher: one call at each transition, so names and dimensions stay as the alert
 * rules expect. Each returns what it emitted (tests, logs).
 */

/** After the run record is created as `requested`. */
export function reportRunRequested(t: Telemetry, r: RunRecord): void {
  t.runRequested({ dataset: r.dataset, runId: r.runId, origin: r.origin });
}

/** After run-now succeeded and the record has `dispatchedAt`: landed → submitted latency when `firstLandedAt` is known. */
export function reportRunDispatched(t: Telemetry, r: RunRecord): { latencyMs?: number } {
  const latencyMs = r.firstLandedAt && r.dispatchedAt ? Date.parse(r.dispatchedAt) - Date.parse(r.firstLandedAt) : undefined;
  t.runDispatched({ dataset: r.dataset, runId: r.runId, ...(latencyMs !== undefined && Number.isFinite(latencyMs) ? { latencyMs } : {}) });
  return latencyMs !== undefined && Number.isFinite(latencyMs) ? { latencyMs } : {};
}

/** After the record reached a terminal Databricks result (succeeded/failed). */
export function reportRunCompleted(t: Telemetry, r: RunRecord): { resultState: string; durationMs?: number } {
  const resultState = r.resultState ?? (r.state === 'succeeded' ? 'SUCCESS' : r.state === 'failed' ? 'FAILED' : r.state.toUpperCase());
  const start = r.startedAt ?? r.dispatchedAt;
  const durationMs = start && r.endedAt ? Date.parse(r.endedAt) - Date.parse(start) : undefined;
  t.runCompleted({
    dataset: r.dataset,
    runId: r.runId,
    jobName: r.jobName,
    resultState,
    ...(r.terminationCode ? { terminationCode: r.terminationCode } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
  });
  return { resultState, ...(durationMs !== undefined ? { durationMs } : {}) };
}
