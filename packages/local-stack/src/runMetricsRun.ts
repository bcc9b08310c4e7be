import { randomUUID } from 'node:crypto';
import type { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import type { Run } from 'orbiter/shared/databricks/schemas';
import type { RunRecord, RunStore } from 'orbiter/shared/runs/runStore';

export const RUN_METRICS_JOB = 'orbiter-run-metrics-stream';
const TERMINAL = new Set(['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR']);

export type JobRunOutcome = { ok: boolean; message: string; run?: Run };

export interface PollOptions {
  timeoutMs: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const pause = (o: PollOptions): Promise<void> => (o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(o.pollMs ?? 1000);

/** Waits until every run but skipped ones has written its completion event (a record is terminal a moment before). */
export async function awaitCompletionEvents(store: RunStore, runs: readonly RunRecord[], o: PollOptions): Promise<JobRunOutcome> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  const publishing = runs.filter((r) => r.state !== 'skipped').map((r) => r.runId);
  for (;;) {
    const records = await Promise.all(publishing.map((id) => store.get(id)));
    const waiting = records.filter((s) => s && !s.record.completionPublishedAt).length;
    if (waiting === 0) return { ok: true, message: `${publishing.length} completion event(s) published` };
    if (now() > deadline) return { ok: false, message: `${waiting} run(s) never published their completion event` };
    await pause(o);
  }
}

/** One run-now of the job named `jobName`, waited on until it is terminal. */
export async function runJobOnce(client: DatabricksJobsClient, jobName: string, o: PollOptions): Promise<JobRunOutcome> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  const [job] = await client.findJobsByName(jobName);
  if (!job) return { ok: false, message: `job ${jobName} is not deployed` };
  // A token, so the client's retry of a lost response does not start a second run.
  const { run_id } = await client.runNow({ job_id: job.job_id, idempotency_token: `local-${randomUUID()}` });
  while (now() < deadline) {
    const run = await client.getRun(run_id);
    if (TERMINAL.has(run.state?.life_cycle_state ?? '')) {
      const ok = run.state?.result_state === 'SUCCESS';
      const detail = run.state?.state_message ? `: ${run.state.state_message}` : '';
      return { ok, run, message: ok ? 'succeeded' : `${run.state?.result_state ?? run.state?.life_cycle_state}${detail}` };
    }
    await pause(o);
  }
  return { ok: false, message: `the ${jobName} run ${run_id} did not finish within ${Math.round(o.timeoutMs / 1000)} s` };
}

/**
 * The local stand-in for the continuous run-metrics stream (paused outside prod): once the pipeline runs' completion
 * events are in the lake (and mirrored where the local notebooks read), one run of the stream job with its default availableNow trigger folds them into
 * gold.run_metrics_hourly. Same job, notebook and checkpoint as on Databricks; only the trigger differs.
 */
export async function refreshRunMetrics(
  client: DatabricksJobsClient,
  store: RunStore,
  runs: readonly RunRecord[],
  /** Brings the lake's completion events where the local notebooks read them (see eventsMirror.ts). */
  mirrorEvents: () => Promise<number>,
  o: PollOptions,
): Promise<JobRunOutcome> {
  const published = await awaitCompletionEvents(store, runs, o);
  if (!published.ok) return published;
  await mirrorEvents();
  return runJobOnce(client, RUN_METRICS_JOB, o);
}
