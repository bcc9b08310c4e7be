import type { JobCatalog } from '../catalog';
import type { Run, RunOutput } from '../databricks/schemas';
import type { Logger } from '../logger';
import type { RunRequest } from '../messages/runRequest';
import type { RunState, RunStore } from '../runs/runStore';
import type { BatchStore } from './batches';
import type { CompletionEvent } from './completionEvent';
import type { ManifestStore } from './manifests';
import type { ControlMessage } from './messages';
import type { SlotRows } from './slots';

// The dispatcher's ports: what it needs from Databricks, Service Bus, storage and telemetry (adapters.ts has the real ones).

/** The Jobs API calls the dispatcher makes (DatabricksJobsClient satisfies it). */
export interface JobsApi {
  cancelRun?(runId: number): Promise<void>;
  runNow(req: { job_id: number; job_parameters?: Record<string, string>; idempotency_token?: string }): Promise<{ run_id: number }>;
  getRun(runId: number): Promise<Run>;
  /** A task's output (exit value, error): read when a run ends to record rows per task. Optional for test doubles. */
  getRunOutput?(taskRunId: number): Promise<RunOutput>;
  repairRun(req: { run_id: number; rerun_all_failed_tasks?: boolean; latest_repair_id?: number }): Promise<{ repair_id: number }>;
}

export interface ControlScheduler {
  /** Enqueue a control message for `at` on queue run-status (scheduled messages: no lock is held while waiting). */
  schedule(msg: ControlMessage, at: Date, messageId: string): Promise<void>;
}

export interface CompletionSink {
  /** Idempotent: writing the same event twice leaves one blob. */
  write(e: CompletionEvent): Promise<void>;
  /** MessageId-deduplicated publish on topic run-events. */
  publish(e: CompletionEvent): Promise<void>;
}

/** A run that failed for good, as the run request that would run it again, with why it stopped. */
export interface ParkedRun {
  request: RunRequest;
  attempt: number;
  /** Dead-letter reason: `RunFailed`, or `RunCancelled` (a cancelled ingestion run: its landed files still need a run). */
  reason: string;
  description: string;
}

export interface FailureParking {
  /** Puts the run in a dead-letter queue with its reason. Idempotent per (run, attempt). */
  park(p: ParkedRun): Promise<void>;
  /** Puts a message that can never be processed (not a valid run request) in the same dead-letter queue, as it came. */
  parkMessage(m: { messageId: string; body: unknown; reason: string; description: string }): Promise<void>;
}

export type DispatchEvent =
  | { name: 'run.requested'; runId: string; dataset: string }
  | { name: 'run.dispatched'; runId: string; dataset: string; latencyMs?: number }
  | {
      name: 'run.completed';
      runId: string;
      dataset: string;
      state: RunState;
      resultState: string;
      /** Databricks' termination code (USER_CANCELED: a caller cancelled it, not a failure). */
      terminationCode?: string;
      jobName: string;
      durationMs?: number;
    }
  | { name: 'run.parked'; runId: string; dataset: string; entity: string; reason: string };

export interface DispatchDeps {
  runs: RunStore;
  batches: BatchStore;
  /** maxRunsInFlight slots, shared by coalesced and direct runs (in the runs table). */
  slots: SlotRows;
  jobs: JobsApi;
  resolveJobId(dataset: string): Promise<number>;
  catalog: JobCatalog;
  scheduler: ControlScheduler;
  completions: CompletionSink;
  failures: FailureParking;
  /** Stores input manifests too large for a job parameter. */
  manifests: ManifestStore;
  /** lake_root job parameter. */
  lakeRoot: string;
  now(): Date;
  logger: Logger;
  pollInitialMs: number;
  pollMaxMs: number;
  /** Caps every dataset's coalescing window (seconds). */
  maxCoalescingSeconds?: number;
  /** Telemetry hook. */
  onEvent?(e: DispatchEvent): void;
}
