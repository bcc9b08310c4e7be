import { createHash } from 'node:crypto';
import type { RunRecord } from './runStore';

/** Databricks idempotency token: 64 hex chars, a function of the run and attempt only. */
export function idempotencyToken(runId: string, attempt: number): string {
  return createHash('sha256').update(`${runId}|attempt=${attempt}`).digest('hex');
}

/** What a new run is made of; everything else of its first record follows from it. */
export interface NewRunFields {
  runId: string;
  dataset: string;
  jobName: string;
  origin: string;
  inputs: RunRecord['inputs'];
  parameters?: Record<string, string> | undefined;
  correlationId: string;
  traceparent?: string | undefined;
  requestedAt: string;
  /** When the record is written. */
  updatedAt: string;
  /** When the earliest input landed (coalesced runs). */
  firstLandedAt?: string | undefined;
}

/** The one builder of a run's first record: state `requested`, attempt 1 with its idempotency token. */
export function newRunRecord(f: NewRunFields): RunRecord {
  return {
    runId: f.runId,
    dataset: f.dataset,
    jobName: f.jobName,
    state: 'requested',
    origin: f.origin,
    inputs: f.inputs,
    parameters: f.parameters ?? {},
    idempotencyToken: idempotencyToken(f.runId, 1),
    correlationId: f.correlationId,
    ...(f.traceparent ? { traceparent: f.traceparent } : {}),
    attempt: 1,
    requestedAt: f.requestedAt,
    updatedAt: f.updatedAt,
    ...(f.firstLandedAt ? { firstLandedAt: f.firstLandedAt } : {}),
  };
}
