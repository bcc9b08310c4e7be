import { createHash } from 'node:crypto';
import { buildJobParameters, decideRetry, getCatalogDataset, type JobCatalog } from '../catalog';
import type { Run } from '../databricks/schemas';
import { OrbiterError } from '../errors';
import type { Logger } from '../logger';
import type { RunRequest } from '../messages/runRequest';
import { mutateRun, terminalRunStates, type RunRecord, type RunState, type RunStore } from '../runs/runStore';
import type { BatchStore } from './batches';
import { completionEventV1, type CompletionEvent } from './completionEvent';
import type { ControlMessage, FlushMessage, PollMessage, RetryMessage } from './messages';

/** The Jobs API calls the dispatcher makes (DatabricksJobsClient satisfies it). */
export interface JobsApi {
  cancelRun?(runId: number): Promise<void>;
  runNow(req: { job_id: number; job_parameters?: Record<string, string>; idempotency_token?: string }): Promise<{ run_id: number }>;
  getRun(runId: number): Promise<Run>;
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

export type DispatchEvent =
  | { name: 'run.requested'; runId: string; dataset: string }
  | { name: 'run.dispatched'; runId: string; dataset: string; latencyMs?: number }
  | { name: 'run.completed'; runId: string; dataset: string; state: RunState; resultState: string; jobName: string; durationMs?: number };

export interface DispatchDeps {
  runs: RunStore;
  batches: BatchStore;
  jobs: JobsApi;
  resolveJobId(dataset: string): Promise<number>;
  catalog: JobCatalog;
  scheduler: ControlScheduler;
  completions: CompletionSink;
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

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Databricks idempotency token: 64 hex chars, a function of the run and attempt only. */
export function idempotencyToken(runId: string, attempt: number): string {
  return sha256(`${runId}|attempt=${attempt}`);
}

/** Job parameters have a size limit; above this the run processes its dataset's whole raw prefix instead. */
const MAX_MANIFEST_CHARS = 8000;

// run-requests: see accept.ts
export { acceptRunRequest, acceptRunRequests, validateRunRequests, type AcceptedRequest, type RejectedMessage } from './accept';

/** A dataset's coalescing window in ms, with the deployment-wide cap applied. */
export function windowMsFor(deps: DispatchDeps, seconds: number): number {
  return Math.max(0, Math.min(seconds, deps.maxCoalescingSeconds ?? Infinity) * 1000);
}

export function newRecord(
  runId: string,
  req: Pick<RunRequest, 'origin' | 'parameters' | 'correlationId' | 'traceparent' | 'requestedAt'> & { dataset: string }, jobName: string, inputs: RunRecord['inputs'], deps: DispatchDeps, firstLandedAt?: string): RunRecord {
  const now = deps.now().toISOString();
  return {
    runId,
    dataset: req.dataset,
    jobName,
    state: 'requested',
    origin: req.origin,
    inputs,
    parameters: req.parameters ?? {},
    idempotencyToken: idempotencyToken(runId, 1),
    correlationId: req.correlationId,
    ...(req.traceparent ? { traceparent: req.traceparent } : {}),
    attempt: 1,
    requestedAt: req.requestedAt,
    updatedAt: now,
    ...(firstLandedAt ? { firstLandedAt } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// run-status (control)

export async function handleControl(msg: ControlMessage, deps: DispatchDeps): Promise<void> {
  switch (msg.schema) {
    case 'orbiter.dispatch-flush':
      return flushBatch(msg, deps);
    case 'orbiter.run-poll':
      return pollRun(msg, deps);
    case 'orbiter.run-retry':
      return retryRun(msg, deps);
  }
}

/**
 * Turns the unassigned inputs of one batch into one run. The run id is a function of that set, so a replayed flush
 * (crash after run-now, before the rows were stamped) computes the same run and the same idempotency token.
 */
export async function flushBatch(msg: FlushMessage, deps: DispatchDeps): Promise<void> {
  const entry = getCatalogDataset(deps.catalog, msg.dataset);
  const items = (await deps.batches.items(msg.dataset, msg.bucket)).filter((i) => !i.runId).sort((a, b) => a.key.localeCompare(b.key));
  if (items.length === 0) {
    await deps.batches.markFlushed(msg.dataset, msg.bucket);
    return;
  }
  const inFlight = (await Promise.all((['dispatched', 'running'] as const).map((state) => deps.runs.list({ dataset: msg.dataset, state, limit: entry.maxRunsInFlight + 1 })))).reduce(
    (n, r) => n + r.runs.length,
    0,
  );
  const runId = `${msg.dataset}-${new Date(msg.bucket).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${sha256(`${msg.dataset}|${msg.bucket}|${items.map((i) => i.key).join(',')}`).slice(0, 12)}`;
  const existing = await deps.runs.get(runId);
  if (!existing && inFlight >= entry.maxRunsInFlight) {
    // Too many runs in flight for this job: wait a window; the batch keeps growing meanwhile (more coalescing).
    const delay = Math.max(1000, windowMsFor(deps, entry.coalescingWindowSeconds));
    const at = new Date(deps.now().getTime() + delay);
    deps.logger.info('run deferred: max runs in flight reached', { dataset: msg.dataset, inFlight, max: entry.maxRunsInFlight });
    await deps.scheduler.schedule(msg, at, `flush-${msg.dataset}-${msg.bucket}-${at.getTime()}`);
    return;
  }
  const first = items[0]!;
  const firstLandedAt = items.map((i) => i.landedAt).filter((x): x is string => !!x).sort()[0];
  const { run, created } = await deps.runs.createIfAbsent(
    newRecord(
      runId,
      {
        dataset: msg.dataset,
        origin: 'blob-landed',
        parameters: {},
        correlationId: first.correlationId,
        ...(first.traceparent ? { traceparent: first.traceparent } : {}),
        requestedAt: new Date(msg.bucket).toISOString(),
      },
      entry.job.name,
      items.map((i) => i.input),
      deps,
      firstLandedAt,
    ),
  );
  if (created) deps.onEvent?.({ name: 'run.requested', runId, dataset: msg.dataset });
  if (run.record.state === 'requested') await dispatchRun(run.record, deps);
  await deps.batches.assign(
    msg.dataset,
    msg.bucket,
    items.map((i) => i.key),
    runId,
  );
  await deps.batches.markFlushed(msg.dataset, msg.bucket);
  // Requests that joined while this flush ran saw it as still scheduled: pick them up now.
  if ((await deps.batches.items(msg.dataset, msg.bucket)).some((i) => !i.runId)) {
    await deps.scheduler.schedule(msg, deps.now(), `flush-${msg.dataset}-${msg.bucket}-after-${runId}`);
  }
}

/** run-now with the run's idempotency token, then read the run it hands back (a replayed token returns an old run). */
export async function dispatchRun(record: RunRecord, deps: DispatchDeps, attempt = record.attempt): Promise<void> {
  const entry = getCatalogDataset(deps.catalog, record.dataset);
  const jobId = await deps.resolveJobId(record.dataset);
  let files = record.inputs.map((i) => ({ container: i.container, path: i.path, etag: i.etag }));
  if (JSON.stringify({ files }).length > MAX_MANIFEST_CHARS) {
    deps.logger.warn('input manifest too large for a job parameter: the run processes the whole raw prefix', { runId: record.runId, inputs: files.length });
    files = [];
  }
  const params = buildJobParameters(entry, {
    dataset: record.dataset,
    lakeRoot: deps.lakeRoot,
    inputManifest: { files },
    runId: record.runId,
    ...(record.traceparent ? { traceparent: record.traceparent } : {}),
    userParameters: record.parameters,
  });
  const token = idempotencyToken(record.runId, attempt);
  const { run_id } = await deps.jobs.runNow({ job_id: jobId, job_parameters: params, idempotency_token: token });
  const run = await deps.jobs.getRun(run_id);
  const now = deps.now();
  const updated = await mutateRun(deps.runs, record.runId, (r) =>
    r.state === 'cancelled' && !r.databricksRunId
      ? undefined
      : {
          ...r,
          state: isTerminal(run) ? r.state : run.state?.life_cycle_state === 'RUNNING' ? 'running' : 'dispatched',
          attempt,
          idempotencyToken: token,
          databricksRunId: run_id,
          ...(run.run_page_url ? { databricksRunUrl: run.run_page_url } : {}),
          ...(run.state?.life_cycle_state ? { lifeCycleState: run.state.life_cycle_state } : {}),
          dispatchedAt: r.dispatchedAt ?? now.toISOString(),
          updatedAt: now.toISOString(),
        },
  );
  if (updated?.state === 'cancelled' && !updated.databricksRunId) {
    // Cancelled through the API while run-now was in flight: stop the run it just started.
    await deps.jobs.cancelRun?.(run_id);
    deps.logger.info('run cancelled during dispatch; Databricks run cancelled', { runId: record.runId, databricksRunId: run_id });
    return;
  }
  const latencyMs = updated?.firstLandedAt ? now.getTime() - Date.parse(updated.firstLandedAt) : undefined;
  deps.onEvent?.({ name: 'run.dispatched', runId: record.runId, dataset: record.dataset, ...(latencyMs !== undefined ? { latencyMs } : {}) });
  deps.logger.info('run dispatched', { runId: record.runId, databricksRunId: run_id, attempt, latencyMs });
  await schedulePoll(deps, { runId: record.runId, databricksRunId: run_id, attempt, polls: 0 });
}

async function schedulePoll(deps: DispatchDeps, p: Omit<PollMessage, 'schema' | 'version'>): Promise<void> {
  // Adaptive: quick at first, doubling every two polls up to the ceiling (stays far inside the runs/get budget).
  const delay = Math.min(deps.pollMaxMs, deps.pollInitialMs * 2 ** Math.floor(p.polls / 2));
  await deps.scheduler.schedule(
    { schema: 'orbiter.run-poll', version: 1, ...p },
    new Date(deps.now().getTime() + delay),
    `poll-${p.runId}-a${p.attempt}-${p.polls}`,
  );
}

function isTerminal(run: Run): boolean {
  return ['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'].includes(run.state?.life_cycle_state ?? '');
}

function finalState(run: Run): RunState {
  const lc = run.state?.life_cycle_state;
  const rs = run.state?.result_state;
  if (lc === 'SKIPPED') return 'skipped';
  if (rs === 'SUCCESS') return 'succeeded';
  if (rs === 'CANCELED') return 'cancelled';
  return 'failed';
}

export async function pollRun(msg: PollMessage, deps: DispatchDeps): Promise<void> {
  const stored = await deps.runs.get(msg.runId);
  if (!stored) throw new OrbiterError('NotFound', `poll for unknown run ${msg.runId}`);
  // A newer attempt supersedes this poll chain.
  if (stored.record.attempt > msg.attempt || terminalRunStates.includes(stored.record.state)) return;
  const run = await deps.jobs.getRun(msg.databricksRunId);
  const now = deps.now().toISOString();
  if (!isTerminal(run)) {
    const lc = run.state?.life_cycle_state ?? '';
    await mutateRun(deps.runs, msg.runId, (r) =>
      lc === 'RUNNING' && r.state !== 'running'
        ? { ...r, state: 'running', lifeCycleState: lc, startedAt: r.startedAt ?? (run.start_time ? new Date(run.start_time).toISOString() : now), updatedAt: now }
        : r.lifeCycleState !== lc
          ? { ...r, lifeCycleState: lc, updatedAt: now }
          : undefined,
    );
    if (!msg.once) await schedulePoll(deps, { runId: msg.runId, databricksRunId: msg.databricksRunId, attempt: msg.attempt, polls: msg.polls + 1 });
    return;
  }
  const state = finalState(run);
  const details = run.status?.termination_details;
  const terminationType = details?.type ?? (run.state?.life_cycle_state === 'INTERNAL_ERROR' ? 'INTERNAL_ERROR' : undefined);
  const terminationCode = details?.code ?? run.state?.result_state ?? undefined;
  const error = state === 'failed' ? (details?.message ?? run.state?.state_message ?? 'run failed') : undefined;

  if (state === 'failed') {
    const entry = getCatalogDataset(deps.catalog, stored.record.dataset);
    const decision = decideRetry(entry.retryPolicy, terminationType, msg.attempt);
    if (decision.retry) {
      await mutateRun(deps.runs, msg.runId, (r) => ({ ...r, error: `attempt ${msg.attempt} failed (${terminationType}): ${error}; retrying`, updatedAt: now }));
      await deps.scheduler.schedule(
        { schema: 'orbiter.run-retry', version: 1, runId: msg.runId, attempt: decision.nextAttempt, strategy: decision.strategy },
        new Date(deps.now().getTime() + decision.delayMs),
        `retry-${msg.runId}-a${decision.nextAttempt}`,
      );
      deps.logger.warn('run failed; retry scheduled', { runId: msg.runId, terminationType, nextAttempt: decision.nextAttempt, delayMs: decision.delayMs });
      return;
    }
  }

  const startedAt = run.start_time ? new Date(run.start_time).toISOString() : (stored.record.startedAt ?? null);
  const endedAt = run.end_time ? new Date(run.end_time).toISOString() : now;
  const final = await mutateRun(deps.runs, msg.runId, (r) => ({
    ...r,
    state,
    lifeCycleState: run.state?.life_cycle_state,
    ...(run.state?.result_state ? { resultState: run.state.result_state } : {}),
    ...(terminationCode ? { terminationCode } : {}),
    ...(terminationType ? { terminationType } : {}),
    ...(error ? { error } : {}),
    ...(startedAt ? { startedAt } : {}),
    endedAt,
    updatedAt: now,
  }));
  const rec = final ?? stored.record;
  const event = completionEventV1.parse({
    event_version: 1,
    orbiter_run_id: rec.runId,
    job_name: rec.jobName,
    dataset: rec.dataset,
    databricks_run_id: msg.databricksRunId,
    ...(rec.databricksRunUrl ? { databricks_run_url: rec.databricksRunUrl } : {}),
    result_state: run.state?.result_state ?? run.state?.life_cycle_state ?? state.toUpperCase(),
    termination_code: terminationCode ?? null,
    termination_type: terminationType ?? null,
    requested_at: rec.requestedAt,
    started_at: startedAt,
    ended_at: endedAt,
    duration_ms: startedAt ? Math.max(0, Date.parse(endedAt) - Date.parse(startedAt)) : null,
    inputs: rec.inputs.map((i) => ({ container: i.container, path: i.path, etag: i.etag })),
    attempt: msg.attempt,
    correlation_id: rec.correlationId,
    ...(rec.traceparent ? { traceparent: rec.traceparent } : {}),
  });
  await deps.completions.write(event);
  await deps.completions.publish(event);
  deps.onEvent?.({ name: 'run.completed', runId: rec.runId, dataset: rec.dataset, state, resultState: event.result_state, jobName: rec.jobName, ...(event.duration_ms !== null ? { durationMs: event.duration_ms } : {}) });
  deps.logger.info('run completed', { runId: rec.runId, state, databricksRunId: msg.databricksRunId });
}

export async function retryRun(msg: RetryMessage, deps: DispatchDeps): Promise<void> {
  const stored = await deps.runs.get(msg.runId);
  if (!stored) throw new OrbiterError('NotFound', `retry for unknown run ${msg.runId}`);
  const r = stored.record;
  if (terminalRunStates.includes(r.state) || r.attempt >= msg.attempt) return; // cancelled meanwhile, or already retried
  if (msg.strategy === 'new-run' || !r.databricksRunId) {
    await dispatchRun(r, deps, msg.attempt);
    return;
  }
  const run = await deps.jobs.getRun(r.databricksRunId);
  // A redelivered retry finds the run already repairing: only the polling must continue.
  if (isTerminal(run)) {
    const latest = run.repair_history?.filter((h) => h.type === 'REPAIR').map((h) => h.id ?? 0).sort((a, b) => b - a)[0];
    await deps.jobs.repairRun({ run_id: r.databricksRunId, rerun_all_failed_tasks: true, ...(latest ? { latest_repair_id: latest } : {}) });
  }
  const now = deps.now().toISOString();
  await mutateRun(deps.runs, r.runId, (x) => ({ ...x, attempt: msg.attempt, state: 'dispatched', updatedAt: now }));
  await schedulePoll(deps, { runId: r.runId, databricksRunId: r.databricksRunId, attempt: msg.attempt, polls: 0 });
}

/**
 * A Databricks job notification (webhook) short-cuts the polling wait: it triggers one immediate poll of the run it
 * names. The notification itself is not trusted for the state; runs/get is.
 */
export async function onJobNotification(n: { event_type: string; run: { run_id: number } }, deps: DispatchDeps): Promise<'polled' | 'unknown-run'> {
  const rec = await deps.runs.findByDatabricksRunId(n.run.run_id);
  if (!rec) return 'unknown-run';
  await deps.scheduler.schedule(
    { schema: 'orbiter.run-poll', version: 1, runId: rec.runId, databricksRunId: n.run.run_id, attempt: rec.attempt, polls: 0, once: true },
    deps.now(),
    `hook-${rec.runId}-${n.run.run_id}-${n.event_type}`,
  );
  return 'polled';
}
