import { join } from 'node:path';
import { formatHeadlines, readHeadlines, writeStaticDashboard } from '@orbiter/ops/dashboard/insights';
import { PatTokenProvider } from 'orbiter/shared/databricks/auth';
import { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import { ensureError } from 'orbiter/shared/errors';
import { IngestionFailedError } from 'orbiter/shared/ingest/errors';
import type { CycleSummary } from 'orbiter/shared/ingest/ingestCycle';
import type { RunRecord } from 'orbiter/shared/runs/runStore';
import { INSIGHTS_JOB, insightsTrigger, runInsightsNow, waitForInsightsRun, type InsightsOutcome } from './insightsRun';
import { mirrorCompletionEvents } from './eventsMirror';
import { refreshRunMetrics, RUN_METRICS_JOB, type JobRunOutcome } from './runMetricsRun';
import { ProgressReader, ProgressView, type ProgressOutput } from './runProgress';
import type { Stack } from './stack';
import { formatCycleSummary, formatRuns } from './summary';
import { waitForRuns } from './waitForRuns';

/** Where the main job reports: plain lines, and a stream for the run progress view (a bar on a terminal). */
export interface MainJobOutput {
  line(text: string): void;
  error(text: string): void;
  progress: ProgressOutput;
}

export interface FirstCycleResult {
  /** The ingestion cycle succeeded and every landed blob's event became a run request. */
  ok: boolean;
  /** Run requests the landed blobs' events sent. */
  requests: number;
}

export interface MainJobResult {
  /** Ingestion, every run and the insights run succeeded. */
  ok: boolean;
  runs: RunRecord[];
  /** The static dashboard page, when the stack has a dashboard. */
  page?: string;
}

export const jobsClient = (stack: Stack): DatabricksJobsClient =>
  new DatabricksJobsClient({ host: stack.databricks.url, tokenProvider: new PatTokenProvider(stack.databricks.token) });

/** One ingestion cycle through the very timer function Azure runs, then its blobs' events delivered until none is pending. */
export async function runFirstCycle(stack: Stack, out: MainJobOutput): Promise<FirstCycleResult> {
  out.line('Running one ingestion cycle...');
  const outcome = await stack.host.fireTimer('ingestNasa');
  const summary = outcome.ok ? (outcome.result as CycleSummary) : outcome.error instanceof IngestionFailedError ? outcome.error.summary : undefined;
  if (summary) out.line(formatCycleSummary(summary));
  else out.error(`Ingestion failed: ${outcome.error?.message}`);
  stack.monitoring?.startAlerts();

  // The local stand-in for Event Grid: scan until two passes in a row find nothing new.
  let delivered = 0;
  for (let idle = 0; idle < 2;) {
    const n = await stack.watcher.scanOnce();
    delivered += n;
    idle = n === 0 ? idle + 1 : 0;
  }
  const landed = stack.host.invocations.filter((i) => i.name === 'landedBlob');
  const failed = landed.filter((i) => !i.outcome.ok).length;
  const requests = landed.filter((i) => i.outcome.ok && (i.outcome.result as { kind?: string })?.kind === 'request').length;
  out.line(`Blob events delivered: ${delivered}; run requests sent: ${requests}; failed: ${failed}`);
  return { ok: outcome.ok && failed === 0, requests };
}

/**
 * The rest of `--once`: the dispatched runs to their end (with progress), then the insights run their gold updates
 * triggered, its headline figures, and the dashboard as a static page (since --once exits, the live one goes with it).
 */
export async function finishMainJob(
  stack: Stack,
  dataDir: string,
  timeoutMs: number,
  out: MainJobOutput,
  /** The run requests the cycle sent: the wait ends when the runs account for them all and are final. */
  expectedInputs?: number,
): Promise<MainJobResult> {
  out.line('Waiting for the dispatched Databricks runs (local emulator, real PySpark)...');
  const client = jobsClient(stack);
  const reader = new ProgressReader(client);
  const view = new ProgressView(out.progress);
  const waitStart = Date.now();
  const runs = await waitForRuns(stack, timeoutMs, {
    onPoll: async (rs) => view.show(await reader.read(rs), Date.now() - waitStart),
    ...(expectedInputs !== undefined ? { expectedInputs } : {}),
  });
  out.line(formatRuns(runs));
  const runsOk = runs.length > 0 && runs.every((r) => r.state === 'succeeded');

  const after = Math.max(0, ...runs.map((r) => (r.endedAt ? Date.parse(r.endedAt) : 0)));
  let metrics: JobRunOutcome | undefined;
  if (runs.length > 0) {
    out.line(`\nFolding the runs' completion events into gold.run_metrics_hourly (${RUN_METRICS_JOB}, one availableNow run)...`);
    const mirror = (): Promise<number> => mirrorCompletionEvents(stack.storage.blobs, stack.databricks.lakeRoot);
    metrics = await refreshRunMetrics(client, stack.app.runs(), runs, mirror, { timeoutMs });
    out.line(`Run metrics: ${metrics.message}${metrics.run ? ` (Databricks run ${metrics.run.run_id})` : ''}`);
  }
  const insights = await runInsights(client, runs, after, metrics, timeoutMs, out);
  const chartsDir = join(dataDir, 'charts');
  try {
    const headlines = readHeadlines(chartsDir);
    if (headlines?.headlines.length) out.line(`\nInsights from the gold tables (computed ${headlines.generatedAt}):\n${formatHeadlines(headlines)}`);
    else out.line('No headline figures: the gold tables they come from (NEOs, flares, storms, meteorites, fireballs, events, imagery) are empty.');
  } catch (err) {
    out.error(`Insights could not be read: ${ensureError(err).message}`);
  }
  let page: string | undefined;
  if (stack.monitoring) {
    const { dashboard } = stack.monitoring;
    page = writeStaticDashboard(await dashboard.snapshot(), chartsDir, join(dataDir, 'dashboard.html'), dashboard.lakeview);
    out.line(`\nDashboard (static page, opens without a server): ${page}\n  file://${page}`);
  }
  const insightsOk = insights.kind === 'succeeded' || insights.kind === 'not-triggered';
  return { ok: runsOk && insightsOk && (metrics?.ok ?? true), runs, ...(page ? { page } : {}) };
}

/**
 * The insights run the cycle's gold updates cause. With the job's table-update trigger paused (`--once`), it starts
 * as soon as the runs' completion events are folded in: the main job knows the cycle is over, where the trigger would
 * wait 60 s of quiet. Otherwise the trigger starts it, and it runs once more if it began before the run metrics landed.
 */
async function runInsights(
  client: DatabricksJobsClient,
  runs: readonly RunRecord[],
  after: number,
  metrics: JobRunOutcome | undefined,
  timeoutMs: number,
  out: MainJobOutput,
): Promise<InsightsOutcome> {
  if ((await insightsTrigger(client)) === 'paused') {
    if (!runs.some((r) => r.state === 'succeeded'))
      return report(out, { kind: 'not-triggered', message: `no run succeeded, so no gold table changed: ${INSIGHTS_JOB} not started` });
    out.line(`\nRunning ${INSIGHTS_JOB} now that every run of the cycle has reported (its table-update trigger is paused for --once)...`);
    return report(out, await runInsightsNow(client, { timeoutMs }));
  }
  out.line(`\nWaiting for ${INSIGHTS_JOB} (started by its table-update trigger once the gold tables stop changing)...`);
  const triggered = report(out, await waitForInsightsRun(client, { after, timeoutMs }));
  // The trigger fired while the metrics run was still writing: its charts miss them, so run the job once more.
  const metricsEnd = metrics?.run?.end_time ?? 0;
  if (!('run' in triggered) || triggered.kind !== 'succeeded' || (triggered.run.start_time ?? 0) >= metricsEnd) return triggered;
  out.line(`The insights run started before the run metrics were written; running ${INSIGHTS_JOB} once more...`);
  return report(out, await runInsightsNow(client, { timeoutMs }));
}

function report(out: MainJobOutput, outcome: InsightsOutcome): InsightsOutcome {
  out.line(`Insights run: ${describe(outcome)}`);
  return outcome;
}

function describe(outcome: InsightsOutcome): string {
  if (!('run' in outcome)) return outcome.message;
  const { start_time: start, end_time: end, run_id: id } = outcome.run;
  return `${outcome.message}${start && end ? ` in ${((end - start) / 1000).toFixed(1)} s` : ''} (Databricks run ${id})`;
}
