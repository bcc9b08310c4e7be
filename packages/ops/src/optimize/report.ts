import { runCost, type RunCost } from './cost';
import { runBytes, runRows, sum, type ClusterSpec, type RunMetrics } from './metrics';
import type { CostRates } from './rates';

export interface TaskSummary {
  taskKey: string;
  runs: number;
  p50Ms: number;
  maxMs: number;
  /** Share of the job's summed task time (mean over runs). */
  share: number;
  rows?: number;
  bytes?: number;
  rowsPerSecond?: number;
}

export interface JobSummary {
  jobName: string;
  runs: number;
  succeeded: number;
  runsPerDay: number;
  durationP50Ms: number;
  durationMaxMs: number;
  queueP50Ms: number;
  queueMaxMs: number;
  rows?: number;
  bytes?: number;
  rowsPerSecond?: number;
  cluster?: ClusterSpec;
  dbuPerRun: { low: number; high: number };
  costPerRun: { low: number; high: number };
  costPerDay: { low: number; high: number };
  costTotal: { low: number; high: number };
  tasks: TaskSummary[];
}

export interface Recommendation {
  kind: 'autoscale-ceiling' | 'dominant-task' | 'coalescing-window' | 'no-new-data' | 'queue-time';
  jobName: string;
  message: string;
  evidence: string[];
}

export interface OptimizeReport {
  generatedAt: string;
  since: string;
  until: string;
  currency: string;
  /** Always true for figures from the rate table; local runs are priced as rates.local. */
  estimate: true;
  basis: string;
  runs: number;
  jobs: JobSummary[];
  recommendations: Recommendation[];
  notes: string[];
}

export interface ReportInput {
  runs: RunMetrics[];
  rates: CostRates;
  since: Date;
  until: Date;
  /** Coalescing window (seconds) per job name, from config/job-catalog.json. */
  coalescingWindows?: Record<string, number>;
}

const median = (xs: number[]): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};
const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;
const secs = (ms: number): string => `${round(ms / 1000, 1)} s`;

function taskSummaries(runs: RunMetrics[]): TaskSummary[] {
  const keys = [...new Set(runs.flatMap((r) => r.tasks.map((t) => t.taskKey)))];
  return keys.map((taskKey) => {
    const shares: number[] = [];
    const durations: number[] = [];
    let rows: number | undefined;
    let bytes: number | undefined;
    let timedWithRows = 0;
    for (const r of runs) {
      const t = r.tasks.find((x) => x.taskKey === taskKey);
      if (!t) continue;
      durations.push(t.durationMs);
      const total = sum(r.tasks.map((x) => x.durationMs));
      if (total > 0) shares.push(t.durationMs / total);
      if (t.rows !== undefined) {
        rows = (rows ?? 0) + t.rows;
        timedWithRows += t.durationMs;
      }
      if (t.bytes !== undefined) bytes = (bytes ?? 0) + t.bytes;
    }
    return {
      taskKey,
      runs: durations.length,
      p50Ms: median(durations),
      maxMs: Math.max(0, ...durations),
      share: round(shares.length ? sum(shares) / shares.length : 0, 3),
      ...(rows !== undefined ? { rows } : {}),
      ...(bytes !== undefined ? { bytes } : {}),
      ...(rows !== undefined && timedWithRows > 0 ? { rowsPerSecond: round(rows / (timedWithRows / 1000), 1) } : {}),
    };
  });
}

function jobSummary(jobName: string, runs: RunMetrics[], costs: RunCost[], days: number): JobSummary {
  const rowsKnown = runs.map(runRows).filter((x): x is number => x !== undefined);
  const bytesKnown = runs.map(runBytes).filter((x): x is number => x !== undefined);
  const rows = rowsKnown.length ? sum(rowsKnown) : undefined;
  const withRows = runs.filter((r) => runRows(r) !== undefined);
  const rowSeconds = sum(withRows.map((r) => r.durationMs)) / 1000;
  const total = { low: sum(costs.map((c) => c.costLow)), high: sum(costs.map((c) => c.costHigh)) };
  const cluster = runs.find((r) => r.cluster)?.cluster;
  return {
    jobName,
    runs: runs.length,
    succeeded: runs.filter((r) => r.resultState === 'SUCCESS').length,
    runsPerDay: round(runs.length / days, 2),
    durationP50Ms: median(runs.map((r) => r.durationMs)),
    durationMaxMs: Math.max(0, ...runs.map((r) => r.durationMs)),
    queueP50Ms: median(runs.map((r) => r.queueMs)),
    queueMaxMs: Math.max(0, ...runs.map((r) => r.queueMs)),
    ...(rows !== undefined ? { rows } : {}),
    ...(bytesKnown.length ? { bytes: sum(bytesKnown) } : {}),
    ...(rows !== undefined && rowSeconds > 0 ? { rowsPerSecond: round(rows / rowSeconds, 1) } : {}),
    ...(cluster ? { cluster } : {}),
    dbuPerRun: { low: round(sum(costs.map((c) => c.dbuLow)) / runs.length), high: round(sum(costs.map((c) => c.dbuHigh)) / runs.length) },
    costPerRun: { low: round(total.low / runs.length), high: round(total.high / runs.length) },
    costPerDay: { low: round(total.low / days), high: round(total.high / days) },
    costTotal: { low: round(total.low), high: round(total.high) },
    tasks: taskSummaries(runs),
  };
}

function recommend(job: JobSummary, runs: RunMetrics[], input: ReportInput): Recommendation[] {
  const out: Recommendation[] = [];
  const t = input.rates.recommendations;
  if (runs.length < t.minRunsForEvidence) return out;
  const money = (x: number): string => `${round(x, 4)} ${input.rates.currency}`;

  // Autoscale ceiling never reached (needs observed worker counts: Clusters API events).
  const observed = runs.map((r) => r.cluster?.observedMaxWorkers).filter((x): x is number => x !== undefined);
  if (job.cluster && observed.length === runs.length && job.cluster.maxWorkers > job.cluster.minWorkers) {
    const peak = Math.max(...observed);
    if (peak < job.cluster.maxWorkers)
      out.push({
        kind: 'autoscale-ceiling',
        jobName: job.jobName,
        message: `autoscale ceiling ${job.cluster.maxWorkers} was never reached: lower max_workers to ${Math.max(peak, job.cluster.minWorkers)} (bounds the worst-case cost of a run)`,
        evidence: [`${runs.length} runs, most workers seen ${peak} of max ${job.cluster.maxWorkers}`],
      });
  }

  // A task dominating run time.
  const top = [...job.tasks].sort((a, b) => b.share - a.share)[0];
  if (top && job.tasks.length > 1 && top.share >= t.dominantTaskShare)
    out.push({
      kind: 'dominant-task',
      jobName: job.jobName,
      message: `task ${top.taskKey} takes ${Math.round(top.share * 100)}% of the run time: optimise or size for it first`,
      evidence: [
        `${top.taskKey} p50 ${secs(top.p50Ms)}, max ${secs(top.maxMs)} over ${top.runs} runs`,
        ...job.tasks.filter((x) => x !== top).map((x) => `${x.taskKey} p50 ${secs(x.p50Ms)} (${Math.round(x.share * 100)}%)`),
      ],
    });

  // Runs on no new data: the run read no input bytes and merged no rows.
  const empty = runs.filter((r) => runBytes(r) === 0 && (runRows(r) ?? 0) === 0);
  if (empty.length && empty.length / runs.length >= t.noNewDataRunShare) {
    const scheduled = empty.filter((r) => r.trigger === 'PERIODIC').length;
    const wasted = sum(empty.map((r) => runCost(r, input.rates).costHigh));
    out.push({
      kind: 'no-new-data',
      jobName: job.jobName,
      message:
        scheduled > 0
          ? `${scheduled} scheduled runs found no new data: pause the schedule (event-driven runs cover new landings) or run it less often`
          : `${empty.length} runs found no new data: check what starts them (coalescing, retries, manual runs)`,
      evidence: [`${empty.length} of ${runs.length} runs read 0 bytes and merged 0 rows`, `their estimated cost: up to ${money(wasted)}`],
    });
  }

  // Coalescing window vs runs per day: many short runs back to back pay the cluster start-up each time.
  const window = input.coalescingWindows?.[job.jobName];
  if (window !== undefined && runs.length >= 2) {
    const starts = runs.map((r) => r.startTime).sort((a, b) => a - b);
    const gaps = starts.slice(1).map((s, i) => (s - starts[i]!) / 1000);
    const close = gaps.filter((g) => g <= Math.max(4 * window, 600)).length;
    const setupShare = sum(runs.map((r) => r.setupMs)) / Math.max(1, sum(runs.map((r) => r.durationMs)));
    if (close / gaps.length >= 0.5) {
      const suggested = Math.min(3600, Math.max(window * 2, Math.ceil(median(gaps))));
      out.push({
        kind: 'coalescing-window',
        jobName: job.jobName,
        message: `runs start in bursts: a coalescingWindowSeconds of ${suggested} (now ${window}) would merge them into fewer runs, saving the per-run start-up and fixed cost`,
        evidence: [
          `${job.runsPerDay} runs/day, median gap between starts ${round(median(gaps), 1)} s`,
          `${close} of ${gaps.length} gaps within ${Math.max(4 * window, 600)} s`,
          `estimated ${money(job.costPerRun.high)} per run (high), ${money(job.costPerDay.high)} per day; cluster start-up is ${Math.round(setupShare * 100)}% of billed time`,
        ],
      });
    }
  }

  // Queue time: runs waiting for the previous one (max_concurrent_runs, the dataset's single writer).
  if (job.queueP50Ms > 0 && job.queueP50Ms >= job.durationP50Ms / 2)
    out.push({
      kind: 'queue-time',
      jobName: job.jobName,
      message:
        'runs wait in the queue about as long as they run: widen the coalescing window rather than raising max_concurrent_runs (one writer per dataset)',
      evidence: [`queue p50 ${secs(job.queueP50Ms)}, max ${secs(job.queueMaxMs)}; run p50 ${secs(job.durationP50Ms)}`],
    });
  return out;
}

/** Turns run metrics into per-job figures, cost estimates and recommendations (pure: no I/O). */
export function buildReport(input: ReportInput, now = new Date()): OptimizeReport {
  const days = Math.max(1 / 24, (input.until.getTime() - input.since.getTime()) / 86_400_000);
  const byJob = new Map<string, RunMetrics[]>();
  for (const r of input.runs) byJob.set(r.jobName, [...(byJob.get(r.jobName) ?? []), r]);
  const jobs: JobSummary[] = [];
  const recommendations: Recommendation[] = [];
  for (const [name, runs] of [...byJob.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const job = jobSummary(
      name,
      runs,
      runs.map((r) => runCost(r, input.rates)),
      days,
    );
    jobs.push(job);
    recommendations.push(...recommend(job, runs, input));
  }
  const local = input.runs.some((r) => !r.cluster || r.cluster.basis === 'local');
  const notes = [
    `Costs are estimates from the rate table (${input.rates.currency}), not measured spend; autoscale clusters are priced at min..max workers unless observed worker counts are known.`,
  ];
  if (local)
    notes.push(
      `Runs without a declared cluster (the local emulator) are priced as ${input.rates.local.nodeType} × ${input.rates.local.workers + 1} node(s): ${input.rates.local.note ?? ''}`.trim(),
    );
  if (!input.runs.some((r) => r.cluster?.observedMaxWorkers !== undefined))
    notes.push('Observed worker counts are not collected (Clusters API events), so the autoscale-ceiling check has no evidence in this report.');
  return {
    generatedAt: now.toISOString(),
    since: input.since.toISOString(),
    until: input.until.toISOString(),
    currency: input.rates.currency,
    estimate: true,
    basis: local ? 'rate table; local runs priced as rates.local' : 'rate table × declared job clusters',
    runs: input.runs.length,
    jobs,
    recommendations,
    notes,
  };
}
