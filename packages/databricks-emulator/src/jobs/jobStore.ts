import type { BundleJob } from '../jobSettings';
import { invalid } from '../api/errors';

/** The run engine's read view of the workspace's jobs by id (a live map: ../jobStore.ts creates, resets, deletes). */
export class JobStore {
  constructor(private readonly jobs: Map<number, BundleJob>) {}

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
