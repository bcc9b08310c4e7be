import { createHash } from 'node:crypto';
import { buildJobParameters, decideRetry, getCatalogDataset, type JobCatalog } from '../catalog';
import type { Run } from '../databricks/schemas';
import { OrbiterError } from '../errors';
import { NETWORK_ERROR_CODES, retryDelayMs, type BackoffPolicy } from '../http/retry';
import type { Logger } from '../logger';
import { Queues } from '../names';
import type { RunRequest } from '../messages/runRequest';
import { mutateRun, terminalRunStates, type RunRecord, type RunState, type RunStore } from '../runs/runStore';
import type { BatchStore } from './batches';
import { withManifestRef, type ManifestStore } from './manifests';
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

/** A run that failed for good, as the run request that would run it again, with why it stopped. */
export interface ParkedRun {
  request: RunRequest;
  attempt: number;
  /** Dead-letter reason: `RunFailed`. */
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
  | { name: 'run.completed'; runId: string; dataset: string; state: RunState; resultState: string; jobName: string; durationMs?: number }
  | { name: 'run.parked'; runId: string; dataset: string; entity: string; reason: string };

export interface DispatchDeps {
  runs: RunStore;
  batches: BatchStore;
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

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Databricks idempotency token: 64 hex chars, a function of the run and attempt only. */
export function idempotencyToken(runId: string, attempt: number): string {
  return sha256(`${runId}|attempt=${attempt}`);
}

/** Inputs per coalesced run: keeps the run record within one table entity; a bigger batch becomes several runs. */
export const MAX_INPUTS_PER_RUN = 1000;

/** Job parameters have a size limit; a manifest above this is passed by reference (a blob in `events`). */
const MAX_MANIFEST_CHARS = 8000;

// run-requests: see accept.ts

/** A dataset's coalescing window in ms, with the deployment-wide cap applied. */
export function windowMsFor(deps: DispatchDeps, seconds: number): number {
  return Math.max(0, Math.min(seconds, deps.maxCoalescingSeconds ?? Infinity) * 1000);
}

export function newRecord(
  runId: string,
  req: Pick<RunRequest, 'origin' | 'parameters' | 'correlationId' | 'traceparent' | 'requestedAt'> & { dataset: string },
  jobName: string,
  inputs: RunRecord['inputs'],
  deps: DispatchDeps,
  firstLandedAt?: string,
): RunRecord {
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

/**
 * Rescheduling of a control message after a transient failure: the clients' own backoff (full jitter, Retry-After
 * honoured) from 2 s to 5 min, 40 times (hours of outage) before the message is left to the queue's dead-lettering.
 */
const controlBackoff: BackoffPolicy = { maxRetries: 40, baseDelayMs: 2000, maxDelayMs: 300_000 };

export async function handleControl(msg: ControlMessage, deps: DispatchDeps): Promise<void> {
  try {
    switch (msg.schema) {
      case 'orbiter.dispatch-flush':
        return await flushBatch(msg, deps);
      case 'orbiter.run-poll':
        return await pollRun(msg, deps);
      case 'orbiter.run-retry':
        return await retryRun(msg, deps);
    }
  } catch (err) {
    // Redelivery alone would spend the queue's few deliveries in seconds and dead-letter the flush or poll, stranding
    // its batch or run during a Jobs API or storage outage: transient failures are rescheduled with backoff instead.
    const failures = (msg.failures ?? 0) + 1;
    if (!isTransient(err) || failures > controlBackoff.maxRetries) throw err;
    const delayMs = retryDelayMs(failures, controlBackoff, (err as { retryAfterMs?: number } | null)?.retryAfterMs);
    const at = new Date(deps.now().getTime() + delayMs);
    deps.logger.warn('control message failed transiently; rescheduled', {
      schema: msg.schema,
      failures,
      delayMs,
      error: String((err as Error)?.message ?? err),
    });
    await deps.scheduler.schedule({ ...msg, failures }, at, `${msg.schema}-${controlKey(msg)}-f${failures}-${at.getTime()}`);
  }
}

function controlKey(msg: ControlMessage): string {
  if (msg.schema === 'orbiter.dispatch-flush') return `${msg.dataset}-${msg.bucket}`;
  if (msg.schema === 'orbiter.run-poll') return `${msg.runId}-a${msg.attempt}-${msg.polls}`;
  return `${msg.runId}-a${msg.attempt}`;
}

/** Errors worth waiting out: typed retryable ones, storage 408/429/5xx and network failures. */
export function isTransient(err: unknown): boolean {
  if (err instanceof OrbiterError) return err.retryable;
  const e = err as { retryable?: unknown; statusCode?: unknown; code?: unknown } | null;
  if (e?.retryable === true) return true;
  if (typeof e?.statusCode === 'number') return e.statusCode === 408 || e.statusCode === 429 || e.statusCode >= 500;
  // REQUEST_SEND_ERROR: the Azure SDKs' wrapper of a failed connection.
  return typeof e?.code === 'string' && (NETWORK_ERROR_CODES.has(e.code) || e.code === 'REQUEST_SEND_ERROR');
}

/**
 * Turns the unassigned inputs of one batch into one run. The run id is a function of that set, so a replayed flush
 * (crash after run-now, before the rows were stamped) computes the same run and the same idempotency token.
 */
export async function flushBatch(msg: FlushMessage, deps: DispatchDeps): Promise<void> {
  const entry = getCatalogDataset(deps.catalog, msg.dataset);
  const all = await deps.batches.items(msg.dataset, msg.bucket);
  // A flush cut short after taking its rows but before run-now left its run `requested`: start it now.
  for (const id of new Set(all.flatMap((i) => (i.runId ? [i.runId] : [])))) {
    const taken = await deps.runs.get(id);
    if (taken?.record.state === 'requested') await dispatchRun(taken.record, deps);
  }
  const unassigned = all.filter((i) => !i.runId).sort((a, b) => a.key.localeCompare(b.key));
  const items = unassigned.slice(0, MAX_INPUTS_PER_RUN);
  if (items.length === 0) {
    await deps.batches.markFlushed(msg.dataset, msg.bucket);
    await deps.batches.clearDeferred(msg.dataset, msg.bucket);
    return;
  }
  const runId = `${msg.dataset}-${new Date(msg.bucket).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${sha256(`${msg.dataset}|${msg.bucket}|${items.map((i) => i.key).join(',')}`).slice(0, 12)}`;
  const existing = await deps.runs.get(runId);
  if (!existing && (await runsInFlight(msg.dataset, entry.maxRunsInFlight, deps)) >= entry.maxRunsInFlight) {
    // Too many runs in flight for this job: the batch waits (and keeps growing: more coalescing). A finishing run
    // releases it at once (releaseDeferred); the scheduled flush is only the fallback.
    await deps.batches.markDeferred(msg.dataset, msg.bucket);
    const delay = Math.max(5000, windowMsFor(deps, entry.coalescingWindowSeconds));
    const at = new Date(deps.now().getTime() + delay);
    deps.logger.info('run deferred: max runs in flight reached', { dataset: msg.dataset, max: entry.maxRunsInFlight });
    await deps.scheduler.schedule(msg, at, `flush-${msg.dataset}-${msg.bucket}-${at.getTime()}`);
    return;
  }
  const first = items[0]!;
  const firstLandedAt = items
    .map((i) => i.landedAt)
    .filter((x): x is string => !!x)
    .sort()[0];
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
  // The rows are stamped before run-now, so a replayed flush never puts them in a second set (see the loop above).
  await deps.batches.assign(
    msg.dataset,
    msg.bucket,
    items.map((i) => i.key),
    runId,
  );
  if (run.record.state === 'requested') await dispatchRun(run.record, deps);
  await deps.batches.markFlushed(msg.dataset, msg.bucket);
  await deps.batches.clearDeferred(msg.dataset, msg.bucket);
  // Rows beyond the per-run cap, and requests that joined while this flush ran (they saw it as still scheduled).
  if (unassigned.length > items.length || (await deps.batches.items(msg.dataset, msg.bucket)).some((i) => !i.runId)) {
    await deps.scheduler.schedule(msg, deps.now(), `flush-${msg.dataset}-${msg.bucket}-after-${runId}`);
  }
}

/** Runs of a dataset dispatched or running, counted up to `cap`. */
async function runsInFlight(dataset: string, cap: number, deps: DispatchDeps): Promise<number> {
  const pages = await Promise.all((['dispatched', 'running'] as const).map((state) => deps.runs.list({ dataset, state, limit: cap + 1 })));
  return pages.reduce((n, r) => n + r.runs.length, 0);
}

/** Flushes the oldest batches deferred by maxRunsInFlight, as many as there are free run slots now. */
async function releaseDeferred(dataset: string, deps: DispatchDeps): Promise<void> {
  const entry = deps.catalog.datasets[dataset] ? getCatalogDataset(deps.catalog, dataset) : undefined;
  if (!entry) return;
  const buckets = await deps.batches.deferredBuckets(dataset);
  if (buckets.length === 0) return;
  const free = entry.maxRunsInFlight - (await runsInFlight(dataset, entry.maxRunsInFlight, deps));
  const now = deps.now();
  for (const bucket of buckets.slice(0, Math.max(0, free))) {
    await deps.scheduler.schedule(
      { schema: 'orbiter.dispatch-flush', version: 1, dataset, bucket },
      now,
      `flush-${dataset}-${bucket}-released-${now.getTime()}`,
    );
  }
}

/** run-now with the run's idempotency token, then read the run it hands back (a replayed token returns an old run). */
export async function dispatchRun(record: RunRecord, deps: DispatchDeps, attempt = record.attempt): Promise<void> {
  const entry = getCatalogDataset(deps.catalog, record.dataset);
  const jobId = await deps.resolveJobId(record.dataset);
  const files = record.inputs.map((i) => ({ container: i.container, path: i.path, etag: i.etag }));
  // A manifest too large for a job parameter goes by reference: its blob is written before run-now, so the run finds it.
  const ref = JSON.stringify({ files }).length > MAX_MANIFEST_CHARS ? await deps.manifests.put(record.runId, record.dataset, files) : undefined;
  const inline = buildJobParameters(entry, {
    dataset: record.dataset,
    lakeRoot: deps.lakeRoot,
    inputManifest: { files: ref ? [] : files },
    runId: record.runId,
    ...(record.traceparent ? { traceparent: record.traceparent } : {}),
    userParameters: record.parameters,
  });
  const params = ref ? withManifestRef(inline, entry, ref) : inline;
  const token = idempotencyToken(record.runId, attempt);
  const { run_id } = await deps.jobs.runNow({ job_id: jobId, job_parameters: params, idempotency_token: token });
  const run = await deps.jobs.getRun(run_id);
  const now = deps.now();
  // The poll chain starts before the record says dispatched: a replayed flush skips a dispatched record, so a crash
  // in between must not leave a run that nobody polls (it would also hold a maxRunsInFlight slot forever).
  await schedulePoll(deps, { runId: record.runId, databricksRunId: run_id, attempt, polls: 0 });
  const updated = await mutateRun(deps.runs, record.runId, (r) =>
    // Cancelled before dispatch, or already moved on by the poll chain started above (it can win the race when this
    // write is slow): never move a record backwards.
    (r.state === 'cancelled' && !r.databricksRunId) || terminalRunStates.includes(r.state) || (r.databricksRunId === run_id && r.attempt === attempt)
      ? undefined
      : {
          ...r,
          state: isTerminal(run) ? r.state : run.state?.life_cycle_state === 'RUNNING' || r.state === 'running' ? 'running' : 'dispatched',
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
  // A newer attempt supersedes this poll chain; a finished run whose completion went out needs nothing more. A terminal
  // record without `completionPublishedAt` is a finish cut short (process died): it is completed again below.
  if (stored.record.attempt > msg.attempt) return;
  if (
    terminalRunStates.includes(stored.record.state) &&
    (stored.record.completionPublishedAt || stored.record.databricksRunId !== msg.databricksRunId)
  )
    return;
  const run = await deps.jobs.getRun(msg.databricksRunId);
  const now = deps.now().toISOString();
  if (!isTerminal(run)) {
    const lc = run.state?.life_cycle_state ?? '';
    await mutateRun(deps.runs, msg.runId, (r) =>
      lc === 'RUNNING' && r.state !== 'running'
        ? {
            ...r,
            state: 'running',
            lifeCycleState: lc,
            startedAt: r.startedAt ?? (run.start_time ? new Date(run.start_time).toISOString() : now),
            updatedAt: now,
          }
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
      await mutateRun(deps.runs, msg.runId, (r) => ({
        ...r,
        error: `attempt ${msg.attempt} failed (${terminationType}): ${error}; retrying`,
        updatedAt: now,
      }));
      await deps.scheduler.schedule(
        { schema: 'orbiter.run-retry', version: 1, runId: msg.runId, attempt: decision.nextAttempt, strategy: decision.strategy },
        new Date(deps.now().getTime() + decision.delayMs),
        `retry-${msg.runId}-a${decision.nextAttempt}`,
      );
      deps.logger.warn('run failed; retry scheduled', {
        runId: msg.runId,
        terminationType,
        nextAttempt: decision.nextAttempt,
        delayMs: decision.delayMs,
      });
      return;
    }
    // Failed for good: the run goes to the dead-letter queue first, so a crash below can only repeat this (deduplicated).
    await parkFailedRun(
      stored.record,
      msg.attempt,
      `${decision.reason}; attempt ${msg.attempt} ended ${terminationType ?? 'FAILED'}${terminationCode ? `/${terminationCode}` : ''}: ${error}`,
      deps,
    );
  }

  const startedAt = run.start_time ? new Date(run.start_time).toISOString() : (stored.record.startedAt ?? null);
  const endedAt = run.end_time ? new Date(run.end_time).toISOString() : (stored.record.endedAt ?? now);
  const final = await mutateRun(deps.runs, msg.runId, (r) => ({
    ...r,
    state,
    // The poll can finish a run before dispatchRun's own record write lands.
    databricksRunId: r.databricksRunId ?? msg.databricksRunId,
    ...(!r.databricksRunUrl && run.run_page_url ? { databricksRunUrl: run.run_page_url } : {}),
    dispatchedAt: r.dispatchedAt ?? now,
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
  // Both idempotent (the blob is written if absent, the message id is deduplicated), then the record says it is done.
  await deps.completions.write(event);
  await deps.completions.publish(event);
  const done = await mutateRun(deps.runs, msg.runId, (r) =>
    r.completionPublishedAt ? undefined : { ...r, completionPublishedAt: deps.now().toISOString() },
  );
  if (done?.completionPublishedAt && stored.record.completionPublishedAt === undefined) {
    deps.onEvent?.({
      name: 'run.completed',
      runId: rec.runId,
      dataset: rec.dataset,
      state,
      resultState: event.result_state,
      jobName: rec.jobName,
      ...(event.duration_ms !== null ? { durationMs: event.duration_ms } : {}),
    });
  }
  deps.logger.info('run completed', { runId: rec.runId, state, databricksRunId: msg.databricksRunId });
  // A finished run frees a slot: flushes deferred by maxRunsInFlight go now instead of waiting out their delay.
  await releaseDeferred(rec.dataset, deps);
}

/** The dead-letter entry of a failed run: the run request that would run its inputs again, and why it stopped. */
async function parkFailedRun(rec: RunRecord, attempt: number, description: string, deps: DispatchDeps): Promise<void> {
  const request: RunRequest = {
    schema: 'orbiter.run-request',
    version: 1,
    requestId: `failed-${rec.runId}`.slice(0, 128),
    dataset: rec.dataset as RunRequest['dataset'],
    origin: 'retry',
    runId: rec.runId,
    inputs: rec.inputs,
    parameters: rec.parameters,
    correlationId: rec.correlationId,
    ...(rec.traceparent ? { traceparent: rec.traceparent } : {}),
    requestedAt: deps.now().toISOString(),
  };
  await deps.failures.park({ request, attempt, reason: 'RunFailed', description });
  deps.onEvent?.({ name: 'run.parked', runId: rec.runId, dataset: rec.dataset, entity: Queues.runFailures, reason: 'RunFailed' });
  deps.logger.error('run failed for good; parked in the dead-letter queue of run-failures', { runId: rec.runId, attempt, description });
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
    const latest = run.repair_history
      ?.filter((h) => h.type === 'REPAIR')
      .map((h) => h.id ?? 0)
      .sort((a, b) => b - a)[0];
    await deps.jobs.repairRun({ run_id: r.databricksRunId, rerun_all_failed_tasks: true, ...(latest ? { latest_repair_id: latest } : {}) });
  }
  const now = deps.now().toISOString();
  // Poll first, as in dispatchRun: once the record carries the new attempt a redelivered retry does nothing.
  await schedulePoll(deps, { runId: r.runId, databricksRunId: r.databricksRunId, attempt: msg.attempt, polls: 0 });
  await mutateRun(deps.runs, r.runId, (x) => ({ ...x, attempt: msg.attempt, state: 'dispatched', updatedAt: now }));
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
    `hook-${rec.runId}-a${rec.attempt}-${n.run.run_id}-${n.event_type}`,
  );
  return 'polled';
}
