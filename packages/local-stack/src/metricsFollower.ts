import type { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import { ensureError } from 'orbiter/shared/errors';
import type { Logger } from 'orbiter/shared/logger';
import { runJobOnce, RUN_METRICS_JOB, type JobRunOutcome } from './runMetricsRun';

export interface RunMetricsFollowerOptions {
  client: DatabricksJobsClient;
  /** Copies completion events where the local notebooks read them; returns how many were new (eventsMirror.ts). */
  mirror: () => Promise<number>;
  logger: Logger;
  /** Time between passes (default 30 s). */
  intervalMs?: number;
  /** How long one run of the stream job may take (default 15 min). */
  runTimeoutMs?: number;
  /** Runs the stream job once (default: run-now and wait, runMetricsRun.ts). */
  runOnce?: () => Promise<JobRunOutcome>;
}

export interface RunMetricsFollower {
  /** One pass: mirror new events; when any arrived (or an earlier fold failed), fold them in. */
  pass(): Promise<void>;
  stop(): void;
}

/**
 * Live `npm start`: the local stand-in for the continuous run-metrics stream, which is paused outside prod (and a
 * stream that never ends would hold one of two cores). Every interval, completion events that arrived since the last
 * pass are mirrored into the local lake and one availableNow run of the same stream job folds them into
 * gold.run_metrics_hourly, so the dashboard's runs-per-hour widget follows the live stack too. Passes never overlap;
 * a failed fold is retried at the next pass (the events stay; the stream's checkpoint knows what is done).
 */
export function followRunMetrics(o: RunMetricsFollowerOptions): RunMetricsFollower {
  const runOnce = o.runOnce ?? (() => runJobOnce(o.client, RUN_METRICS_JOB, { timeoutMs: o.runTimeoutMs ?? 15 * 60_000, pollMs: 2000 }));
  let unfolded = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const fold = async (): Promise<void> => {
    try {
      if ((await o.mirror()) > 0) unfolded = true;
      if (!unfolded || stopped) return;
      const outcome = await runOnce();
      if (outcome.ok) unfolded = false;
      else o.logger.warn('run metrics: the stream run failed; retrying at the next pass', { job: RUN_METRICS_JOB, error: outcome.message });
    } catch (err) {
      o.logger.warn('run metrics: pass failed; retrying at the next pass', { job: RUN_METRICS_JOB, error: ensureError(err).message });
    }
  };
  const pass = (): Promise<void> => (running ??= fold().finally(() => (running = undefined)));
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void pass().then(schedule), o.intervalMs ?? 30_000);
    timer.unref();
  };
  schedule();
  return {
    pass,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
