import type { Run } from '../databricks/schemas';
import { mutateRun, type RunRecord, type RunState } from '../runs/runStore';
import { readRunTasks, type RunTask } from '../runs/runTasks';
import { completionEventV1, type CompletionEvent } from './completionEvent';
import { releaseRunSlot } from './admission';
import type { PollMessage } from './messages';
import type { DispatchDeps } from './ports';

/** How a terminal Databricks run ended, in Orbiter's terms. */
export interface RunOutcome {
  state: RunState;
  terminationType: string | undefined;
  terminationCode: string | undefined;
  error: string | undefined;
}

/**
 * Finishes a run: its final record, its completion event in the lake and on topic run-events, then the record marked
 * published (`now`: when the poll read the run). Every step is idempotent, so a finish cut short is simply done again by the next poll.
 */
export async function completeRun(
  stored: RunRecord,
  msg: PollMessage,
  run: Run,
  outcome: RunOutcome,
  now: string,
  deps: DispatchDeps,
): Promise<void> {
  const { state, terminationType, terminationCode, error } = outcome;
  const startedAt = run.start_time ? new Date(run.start_time).toISOString() : (stored.startedAt ?? null);
  const endedAt = run.end_time ? new Date(run.end_time).toISOString() : (stored.endedAt ?? now);
  const tasks = await taskGraph(run, deps);
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
    ...(tasks ? { tasks } : {}),
    updatedAt: now,
  }));
  const rec = final ?? stored;
  const event = completionEventFor(rec, msg, run, outcome, startedAt, endedAt);
  // Both idempotent (the blob is written if absent, the message id is deduplicated), then the record says it is done.
  await deps.completions.write(event);
  await deps.completions.publish(event);
  const done = await mutateRun(deps.runs, msg.runId, (r) =>
    r.completionPublishedAt ? undefined : { ...r, completionPublishedAt: deps.now().toISOString() },
  );
  if (done?.completionPublishedAt && stored.completionPublishedAt === undefined) {
    deps.onEvent?.({
      name: 'run.completed',
      runId: rec.runId,
      dataset: rec.dataset,
      state,
      resultState: event.result_state,
      ...(outcome.terminationCode ? { terminationCode: outcome.terminationCode } : {}),
      jobName: rec.jobName,
      ...(event.duration_ms !== null ? { durationMs: event.duration_ms } : {}),
    });
  }
  deps.logger.info('run completed', { runId: rec.runId, state, databricksRunId: msg.databricksRunId });
  // A finished run frees its slot: batches and direct runs waiting for one go now instead of waiting out their delay.
  await releaseRunSlot(rec.dataset, rec.runId, deps);
}

/** The run's tasks with what each notebook reported; undefined when the Jobs API port cannot read outputs. */
async function taskGraph(run: Run, deps: DispatchDeps): Promise<RunTask[] | undefined> {
  const getOutput = deps.jobs.getRunOutput?.bind(deps.jobs);
  if (!getOutput || !run.tasks?.length) return undefined;
  return readRunTasks(run, getOutput, (taskKey, err) =>
    deps.logger.warn('task output not readable', { databricksRunId: run.run_id, taskKey, error: err instanceof Error ? err.message : String(err) }),
  );
}

/** The completion event (v1) of a finished run. */
export function completionEventFor(
  rec: RunRecord,
  msg: Pick<PollMessage, 'databricksRunId' | 'attempt'>,
  run: Run,
  outcome: RunOutcome,
  startedAt: string | null,
  endedAt: string,
): CompletionEvent {
  return completionEventV1.parse({
    event_version: 1,
    orbiter_run_id: rec.runId,
    job_name: rec.jobName,
    dataset: rec.dataset,
    databricks_run_id: msg.databricksRunId,
    ...(rec.databricksRunUrl ? { databricks_run_url: rec.databricksRunUrl } : {}),
    result_state: run.state?.result_state ?? run.state?.life_cycle_state ?? outcome.state.toUpperCase(),
    termination_code: outcome.terminationCode ?? null,
    termination_type: outcome.terminationType ?? null,
    requested_at: rec.requestedAt,
    started_at: startedAt,
    ended_at: endedAt,
    duration_ms: startedAt ? Math.max(0, Date.parse(endedAt) - Date.parse(startedAt)) : null,
    inputs: rec.inputs.map((i) => ({ container: i.container, path: i.path, etag: i.etag })),
    attempt: msg.attempt,
    correlation_id: rec.correlationId,
    ...(rec.traceparent ? { traceparent: rec.traceparent } : {}),
  });
}
