import { z } from 'zod';
import type { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import type { Job, Run } from 'orbiter/shared/databricks/schemas';
import { taskVolume, type ClusterSpec, type RunMetrics, type TaskMetrics } from './metrics';

/** The new_cluster fields the cost report reads (Clusters API spec; everything else is ignored). */
const NewCluster = z.looseObject({
  node_type_id: z.string().optional(),
  driver_node_type_id: z.string().optional(),
  num_workers: z.int().min(0).optional(),
  autoscale: z.object({ min_workers: z.int().min(0), max_workers: z.int().min(0) }).optional(),
  azure_attributes: z.looseObject({ availability: z.string().optional(), first_on_demand: z.int().min(0).optional() }).optional(),
  runtime_engine: z.string().optional(),
});

/** The job's first declared cluster as a ClusterSpec; undefined when jobs/get declares none (the local emulator). */
export function declaredCluster(job: Job): ClusterSpec | undefined {
  const first = job.settings?.job_clusters?.[0]?.new_cluster;
  if (!first) return undefined;
  const c = NewCluster.safeParse(first);
  if (!c.success || !c.data.node_type_id) return undefined;
  const min = c.data.autoscale?.min_workers ?? c.data.num_workers ?? 0;
  const max = c.data.autoscale?.max_workers ?? c.data.num_workers ?? 0;
  return {
    basis: 'declared',
    nodeType: c.data.node_type_id,
    driverNodeType: c.data.driver_node_type_id ?? c.data.node_type_id,
    minWorkers: min,
    maxWorkers: max,
    spot: (c.data.azure_attributes?.availability ?? 'ON_DEMAND_AZURE').startsWith('SPOT'),
    firstOnDemand: c.data.azure_attributes?.first_on_demand ?? 1,
    computeKind: c.data.runtime_engine === 'PHOTON' ? 'jobsPhoton' : 'jobs',
  };
}

/** One Jobs API run (expanded tasks) + its task outputs -> RunMetrics. */
export function runMetrics(run: Run, jobName: string, outputs: Map<number, string | undefined>, cluster: ClusterSpec | undefined): RunMetrics {
  const tasks: TaskMetrics[] = (run.tasks ?? []).map((t) => ({
    taskKey: t.task_key,
    durationMs: t.execution_duration ?? Math.max(0, (t.end_time ?? 0) - (t.start_time ?? 0)),
    ...taskVolume(outputs.get(t.run_id)),
  }));
  const billed = (run.setup_duration ?? 0) + (run.execution_duration ?? 0) + (run.cleanup_duration ?? 0);
  return {
    runId: run.run_id,
    jobName,
    trigger: run.trigger ?? 'UNKNOWN',
    resultState: run.state?.result_state ?? run.status?.termination_details?.code ?? 'UNKNOWN',
    startTime: run.start_time ?? 0,
    durationMs: billed || (run.run_duration ?? 0),
    queueMs: run.queue_duration ?? 0,
    setupMs: run.setup_duration ?? 0,
    tasks,
    ...(cluster ? { cluster } : {}),
  };
}

export interface CollectOptions {
  since: Date;
  until?: Date;
  /** Only these job names (default: every job that ran). */
  jobNames?: string[];
}

/** Completed runs started in [since, until) with their task outputs, from the Jobs API (Databricks or the emulator). */
export async function collectRunMetrics(client: DatabricksJobsClient, o: CollectOptions): Promise<RunMetrics[]> {
  const runs: Run[] = [];
  let page_token: string | undefined;
  for (;;) {
    const page = await client.listRuns({
      completed_only: true,
      expand_tasks: true,
      limit: 25,
      start_time_from: o.since.getTime(),
      ...(o.until ? { start_time_to: o.until.getTime() } : {}),
      ...(page_token ? { page_token } : {}),
    });
    runs.push(...page.runs);
    if (!page.has_more || !page.next_page_token) break;
    page_token = page.next_page_token;
  }
  const jobs = new Map<number, Job>();
  const out: RunMetrics[] = [];
  for (const run of runs) {
    if (run.job_id === undefined) continue;
    if (!jobs.has(run.job_id)) jobs.set(run.job_id, await client.getJob(run.job_id));
    const job = jobs.get(run.job_id)!;
    const name = job.settings?.name ?? run.run_name ?? String(run.job_id);
    if (o.jobNames && !o.jobNames.includes(name)) continue;
    const outputs = new Map<number, string | undefined>();
    for (const t of run.tasks ?? []) {
      if (t.state?.result_state !== 'SUCCESS') continue;
      const output = await client.getRunOutput(t.run_id);
      outputs.set(t.run_id, output.notebook_output?.result);
    }
    out.push(runMetrics(run, name, outputs, declaredCluster(job)));
  }
  return out;
}
