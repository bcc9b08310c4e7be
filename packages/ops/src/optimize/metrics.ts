import { z } from 'zod';

/** What the cost report knows about one job run, from the Jobs API (runs/list, jobs/get, runs/get-output). */
export interface ClusterSpec {
  /** 'declared': the job's job_clusters from jobs/get; 'local': the local emulator (no cluster, local cores). */
  basis: 'declared' | 'local';
  nodeType: string;
  driverNodeType: string;
  minWorkers: number;
  maxWorkers: number;
  /** Workers on spot VMs (availability SPOT_*), the first `firstOnDemand` nodes (driver first) on demand. */
  spot: boolean;
  firstOnDemand: number;
  computeKind: string;
  /** Largest worker count seen for the run (Clusters API events), when known. */
  observedMaxWorkers?: number;
}

export interface TaskMetrics {
  taskKey: string;
  durationMs: number;
  rows?: number;
  bytes?: number;
}

export interface RunMetrics {
  runId: number;
  jobName: string;
  /** PERIODIC = the job's schedule, ONE_TIME = run-now (the dispatcher, the CLI). */
  trigger: string;
  resultState: string;
  startTime: number;
  /** Cluster lifetime billed: setup + execution + cleanup (ms). */
  durationMs: number;
  queueMs: number;
  setupMs: number;
  tasks: TaskMetrics[];
  cluster?: ClusterSpec;
}

/** The notebooks' exit values (orbiter_lake.notebook.exit_value) carry the rows and bytes a task processed. */
const ExitValue = z.looseObject({
  stage: z.string().optional(),
  bytes_read: z.number().optional(),
  entities: z.record(z.string(), z.looseObject({ candidates: z.number().optional(), quarantined: z.number().optional() })).optional(),
  tables: z.unknown().optional(),
  totals: z.looseObject({ bytes_processed: z.number().optional() }).optional(),
});

/** rows/bytes from one task's notebook exit value; {} when the value is absent, not JSON or of another shape. */
export function taskVolume(result: string | undefined): { rows?: number; bytes?: number } {
  if (!result) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(result);
  } catch {
    return {};
  }
  const parsed = ExitValue.safeParse(doc);
  if (!parsed.success) return {};
  const v = parsed.data;
  const out: { rows?: number; bytes?: number } = {};
  if (v.bytes_read !== undefined) out.bytes = v.bytes_read;
  if (v.entities) out.rows = Object.values(v.entities).reduce((n, e) => n + (e.candidates ?? 0) + (e.quarantined ?? 0), 0);
  if (v.stage === 'gold' && v.tables && typeof v.tables === 'object' && !Array.isArray(v.tables)) {
    out.rows = Object.values(v.tables as Record<string, unknown>).reduce<number>((n, r) => n + (typeof r === 'number' ? r : 0), 0);
  }
  if (v.totals?.bytes_processed !== undefined) out.bytes = v.totals.bytes_processed;
  return out;
}

export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
export const runRows = (r: RunMetrics): number | undefined => {
  const known = r.tasks.filter((t) => t.rows !== undefined);
  return known.length ? sum(known.map((t) => t.rows!)) : undefined;
};
export const runBytes = (r: RunMetrics): number | undefined => {
  const known = r.tasks.filter((t) => t.bytes !== undefined);
  return known.length ? sum(known.map((t) => t.bytes!)) : undefined;
};
