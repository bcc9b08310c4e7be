import { buildJobParameters, getCatalogDataset } from '../catalog';
import { idempotencyToken } from '../runs/newRunRecord';
import { mutateRun, terminalRunStates, type RunRecord } from '../runs/runStore';
import { isTerminal } from './databricksRun';
import { withManifestRef } from './manifests';
import { schedulePoll } from './pollSchedule';
import type { DispatchDeps } from './ports';

/** Job parameters have a size limit; a manifest above this is passed by reference (a blob in `events`). */
const MAX_MANIFEST_CHARS = 8000;

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
