import type { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import type { Run } from 'orbiter/shared/databricks/schemas';
import { runJobOnce } from './runMetricsRun';

export const INSIGHTS_JOB = 'orbiter-visual-insights';
const TERMINAL = new Set(['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR']);

export type InsightsOutcome = { kind: 'succeeded' | 'failed'; run: Run; message: string } | { kind: 'not-triggered' | 'timeout'; message: string };

export interface WaitForInsightsOptions {
  /** Epoch ms: the last pipeline run's end. The wanted run is the table-triggered one that started after it. */
  after: number;
  timeoutMs: number;
  /** Extra time past the trigger's own delays before concluding that nothing triggered it (default 60 s). */
  graceMs?: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits for the run of the insights job that the gold tables' update triggered (trigger TABLE, started after the
 * pipelines ended) to finish. When no such run has started once the trigger's delays and a grace period have
 * passed, no gold table changed (e.g. every pipeline failed): that is reported, not waited on forever.
 */
export async function waitForInsightsRun(client: DatabricksJobsClient, o: WaitForInsightsOptions): Promise<InsightsOutcome> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const [job] = await client.findJobsByName(INSIGHTS_JOB);
  if (!job) return { kind: 'not-triggered', message: `job ${INSIGHTS_JOB} is not deployed` };
  const trigger = (await client.getJob(job.job_id)).settings?.trigger;
  const update = trigger?.table_update;
  if (!update || trigger?.pause_status === 'PAUSED')
    return { kind: 'not-triggered', message: `job ${INSIGHTS_JOB} has no unpaused table-update trigger` };
  const delayMs = Math.max(update.wait_after_last_change_seconds ?? 0, update.min_time_between_triggers_seconds ?? 0) * 1000;
  const giveUpAt = o.after + delayMs + (o.graceMs ?? 60_000);
  const deadline = now() + o.timeoutMs;
  while (now() < deadline) {
    const { runs } = await client.listRuns({ job_id: job.job_id, start_time_from: o.after, limit: 25 });
    const triggered = runs.filter((r) => r.trigger === 'TABLE').sort((a, b) => (b.start_time ?? 0) - (a.start_time ?? 0));
    const latest = triggered[0];
    if (latest && TERMINAL.has(latest.state?.life_cycle_state ?? '')) {
      const ok = latest.state?.result_state === 'SUCCESS';
      const detail = latest.state?.state_message ? `: ${latest.state.state_message}` : '';
      const message = ok ? 'succeeded' : `${latest.state?.result_state ?? latest.state?.life_cycle_state}${detail}`;
      return { kind: ok ? 'succeeded' : 'failed', run: latest, message };
    }
    if (!latest && now() > giveUpAt)
      return { kind: 'not-triggered', message: `no gold table changed, so the table-update trigger started no ${INSIGHTS_JOB} run` };
    await sleep(o.pollMs ?? 2000);
  }
  return { kind: 'timeout', message: `the ${INSIGHTS_JOB} run did not finish within ${Math.round(o.timeoutMs / 1000)} s` };
}

/** Whether the deployed insights job's table-update trigger is armed (`paused`: the caller starts the run itself). */
export async function insightsTrigger(client: DatabricksJobsClient): Promise<'unpaused' | 'paused' | 'missing'> {
  const [job] = await client.findJobsByName(INSIGHTS_JOB);
  if (!job) return 'missing';
  const trigger = (await client.getJob(job.job_id)).settings?.trigger;
  if (!trigger?.table_update) return 'missing';
  return trigger.pause_status === 'PAUSED' ? 'paused' : 'unpaused';
}

/** One run of the insights job started now (run-now), to its end. */
export async function runInsightsNow(client: DatabricksJobsClient, o: { timeoutMs: number; pollMs?: number }): Promise<InsightsOutcome> {
  const done = await runJobOnce(client, INSIGHTS_JOB, o);
  return done.run ? { kind: done.ok ? 'succeeded' : 'failed', run: done.run, message: done.message } : { kind: 'timeout', message: done.message };
}
