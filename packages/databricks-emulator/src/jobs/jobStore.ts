import type { BundleJob } from '../bundle';
import { invalid } from '../api/errors';

/** The workspace's jobs by id. */
export class JobStore {
  private readonly jobs = new Map<number, BundleJob>();

  constructor(jobs: BundleJob[]) {
    for (const job of jobs) this.jobs.set(job.job_id, job);
  }

  all(): BundleJob[] {
    return [...this.jobs.values()];
  }

  find(jobId: number): BundleJob | undefined {
    return this.jobs.get(jobId);
  }

  /** The job, or Databricks' answer for a missing one. */
  get(jobId: number): BundleJob {
    const job = this.jobs.get(jobId);
    if (!job) throw invalid(`Job ${jobId} does not exist.`);
    return job;
  }
}
