import type { BundleJob, EmulatorJobSettings } from '../jobSettings';
import { invalid } from '../api/errors';

/**
 * The run engine's read view of the workspace's jobs by id (a live map: ../jobStore.ts creates, resets, deletes),
 * plus the hidden jobs of one-time runs (runs/submit): they carry their run's settings but are never listed.
 */
export class JobStore {
  private readonly hidden = new Map<number, BundleJob>();

  constructor(
    private readonly jobs: Map<number, BundleJob>,
    /** A fresh job id from the workspace's job store (so hidden and listed jobs never share one). */
    private readonly newId: () => number,
  ) {}

  /** Listed jobs (not one-time runs' hidden jobs). */
  all(): BundleJob[] {
    return [...this.jobs.values()];
  }

  find(jobId: number): BundleJob | undefined {
    return this.jobs.get(jobId) ?? this.hidden.get(jobId);
  }

  /** The job, or Databricks' answer for a missing one (hidden jobs do not exist for the Jobs API). */
  get(jobId: number): BundleJob {
    const job = this.jobs.get(jobId);
    if (!job) throw invalid(`Job ${jobId} does not exist.`);
    return job;
  }

  /** The hidden job of a one-time run. */
  createHidden(settings: EmulatorJobSettings): BundleJob {
    const job: BundleJob = { job_id: this.newId(), settings };
    this.hidden.set(job.job_id, job);
    return job;
  }
}
