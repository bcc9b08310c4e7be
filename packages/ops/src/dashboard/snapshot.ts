import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sourceIds } from 'orbiter/shared/config';
import type { RunRecord } from 'orbiter/shared/runs/runStore';
import { TelemetryEvents } from 'orbiter/shared/telemetry/index';
import type { Alert } from '../alerts/evaluator';
import type { MonitoringData, QueueDepth } from '../alerts/data';
import { readHeadlines, type InsightsView } from './insights';
import { qualityView, readQuality, watermarkLagDays, type QualityView } from './quality';
import { databricksRunPath } from './runLinks';
import type { RunTask } from 'orbiter/shared/runs/runTasks';
import { lakeviewStamp, type LakeviewSource } from './lakeview/model';

export interface RunView {
  runId: string;
  dataset: string;
  jobName: string;
  state: string;
  resultState?: string;
  origin: string;
  inputs: string[];
  requestedAt: string;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  databricksRunId?: number;
  databricksRunUrl?: string;
  /** The dashboard's own link to the run page, valid across restarts of the local workspace (runLinks.ts). */
  databricksRunPath?: string;
  error?: string;
  traceparent?: string;
  tasks?: RunTask[];
}

export interface SourceView {
  source: string;
  streams: { stream: string; nextStart: string; updatedAt?: string }[];
  /** Latest watermark among its streams: the first day not yet ingested. */
  nextStart?: string;
  lastSuccessAt?: string;
  lastRecords?: number;
  freshnessMinutes?: number;
  /** Whole days the watermark (first day not ingested) is behind now: a fresh ingestion can still be months behind. */
  watermarkLagDays?: number;
}

export interface ChartView {
  name: string;
  url: string;
  updatedAt: string;
}

export interface DashboardSnapshot {
  generatedAt: string;
  runs: RunView[];
  counts: Record<string, number>;
  ingestion: SourceView[];
  queues: QueueDepth[];
  alerts: Alert[];
  charts: ChartView[];
  /** Headline figures of the gold tables (the visual insights job's headlines.json), once it has run. */
  insights?: InsightsView;
  /** Data quality per source and layer (the insights job's data_quality.json beside the watermarks). */
  quality?: QualityView;
  /** Changes when the dashboard definition or a dataset file changes; the page then fetches /api/lakeview. */
  lakeviewVersion?: string;
  /** Sections that could not be read (e.g. the bus is down); the rest still renders. */
  errors: Record<string, string>;
}

export function runView(r: RunRecord): RunView {
  const start = r.startedAt ?? r.dispatchedAt;
  return {
    runId: r.runId,
    dataset: r.dataset,
    jobName: r.jobName,
    state: r.state,
    ...(r.resultState ? { resultState: r.resultState } : {}),
    origin: r.origin,
    inputs: r.inputs.map((i) => `${i.container}/${i.path}`),
    requestedAt: r.requestedAt,
    ...(r.startedAt ? { startedAt: r.startedAt } : {}),
    ...(r.endedAt ? { endedAt: r.endedAt } : {}),
    ...(start && r.endedAt ? { durationMs: Date.parse(r.endedAt) - Date.parse(start) } : {}),
    ...(r.databricksRunId !== undefined ? { databricksRunId: r.databricksRunId } : {}),
    ...(r.databricksRunUrl ? { databricksRunUrl: r.databricksRunUrl } : {}),
    ...(databricksRunPath(r.databricksRunUrl) ? { databricksRunPath: databricksRunPath(r.databricksRunUrl) } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.traceparent ? { traceparent: r.traceparent } : {}),
    ...(r.tasks ? { tasks: r.tasks } : {}),
  };
}

export function listCharts(dir: string | undefined): ChartView[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[\w.-]+\.png$/i.test(f))
    .sort()
    .map((f) => ({ name: f.replace(/\.png$/i, ''), url: `/charts/${encodeURIComponent(f)}`, updatedAt: statSync(join(dir, f)).mtime.toISOString() }));
}

const settle = async <T>(errors: Record<string, string>, key: string, p: () => Promise<T>, fallback: T): Promise<T> => {
  try {
    return await p();
  } catch (err) {
    errors[key] = err instanceof Error ? err.message : String(err);
    return fallback;
  }
};

export interface SnapshotOptions {
  data: MonitoringData;
  alerts: () => Promise<Alert[]>;
  chartsDir?: string;
  /** The Lakeview definition and its datasets (the widgets themselves are served at /api/lakeview). */
  lakeview?: LakeviewSource;
  now?: Date;
  /** How far back runs are listed (default 7 days) and how many (default 200). */
  runsSinceMs?: number;
  maxRuns?: number;
  sources?: readonly string[];
}

export async function buildSnapshot(o: SnapshotOptions): Promise<DashboardSnapshot> {
  const now = o.now ?? new Date();
  const errors: Record<string, string> = {};
  const [runs, marks, queues, telemetry, alerts] = await Promise.all([
    settle(errors, 'runs', () => o.data.runs(new Date(now.getTime() - (o.runsSinceMs ?? 7 * 86_400_000))), []),
    settle(errors, 'ingestion', () => o.data.watermarks(), []),
    settle(errors, 'queues', () => o.data.queues(), []),
    settle(errors, 'telemetry', () => o.data.telemetry(new Date(now.getTime() - 2 * 86_400_000)), []),
    settle(errors, 'alerts', () => o.alerts(), []),
  ]);
  const sorted = [...runs].sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : a.requestedAt > b.requestedAt ? -1 : 0)).slice(0, o.maxRuns ?? 200);
  const counts: Record<string, number> = {};
  for (const r of runs) counts[r.state] = (counts[r.state] ?? 0) + 1;

  const bySource = new Map<string, SourceView>();
  for (const s of o.sources ?? sourceIds) bySource.set(s, { source: s, streams: [] });
  const view = (s: string): SourceView => bySource.get(s) ?? bySource.set(s, { source: s, streams: [] }).get(s)!;
  const later = (a: string | undefined, b: string | undefined): string | undefined => (!a ? b : !b ? a : a > b ? a : b);
  for (const w of marks) {
    const v = view(w.source);
    v.streams.push({ stream: w.stream, nextStart: w.nextStart, ...(w.updatedAt ? { updatedAt: w.updatedAt } : {}) });
    const ns = later(v.nextStart, w.nextStart);
    if (ns) v.nextStart = ns;
    const ls = later(v.lastSuccessAt, w.updatedAt);
    if (ls) v.lastSuccessAt = ls;
  }
  for (const e of telemetry) {
    if (e.type !== 'event' || e.name !== TelemetryEvents.ingestCompleted || e.dims['outcome'] !== 'success') continue;
    const v = view(String(e.dims['source']));
    if (!v.lastSuccessAt || e.ts >= v.lastSuccessAt) {
      v.lastSuccessAt = e.ts;
      if (typeof e.dims['records'] === 'number') v.lastRecords = e.dims['records'];
    }
  }
  for (const v of bySource.values()) {
    if (v.lastSuccessAt) v.freshnessMinutes = Math.max(0, Math.floor((now.getTime() - Date.parse(v.lastSuccessAt)) / 60_000));
    const lag = watermarkLagDays(v.nextStart, now);
    if (lag !== undefined) v.watermarkLagDays = lag;
  }

  let insights: InsightsView | undefined;
  try {
    insights = readHeadlines(o.chartsDir);
  } catch (err) {
    errors['insights'] = err instanceof Error ? err.message : String(err);
  }
  let quality: QualityView | undefined;
  try {
    const file = readQuality(o.chartsDir);
    if (file) quality = qualityView(file, new Map([...bySource.values()].map((v) => [v.source, v.nextStart])), now);
  } catch (err) {
    errors['quality'] = err instanceof Error ? err.message : String(err);
  }
  return {
    generatedAt: now.toISOString(),
    ...(insights ? { insights } : {}),
    ...(quality ? { quality } : {}),
    ...(o.lakeview ? { lakeviewVersion: lakeviewStamp(o.lakeview) } : {}),
    runs: sorted.map(runView),
    counts,
    ingestion: [...bySource.values()],
    queues,
    alerts,
    charts: listCharts(o.chartsDir),
    errors,
  };
}
