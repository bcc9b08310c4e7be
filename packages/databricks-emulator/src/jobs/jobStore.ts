import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../api/errors';
import type { EmulatorJob, EmulatorJobSettings } from './jobSettings';

interface PersistedJobs {
  version: 1;
  nextId: number;
  jobs: EmulatorJob[];
}

/**
 * The workspace's jobs by id: the ones given at start (a bundle) and the ones created through the API (kept in
 * <workDir>/databricks-emulator-jobs.json when persisting). One-time runs (runs/submit) get a hidden job: it
 * carries their settings but is not listed.
 */
export class JobStore {
  private readonly jobs = new Map<number, EmulatorJob>();
  private readonly hidden = new Set<number>();
  private nextId = 1_000_000_001;
  private readonly statePath: string | undefined;

  constructor(jobs: EmulatorJob[], workDir?: string, persist = false) {
    this.statePath = persist && workDir ? join(workDir, 'databricks-emulator-jobs.json') : undefined;
    if (this.statePath && existsSync(this.statePath)) {
      const state = JSON.parse(readFileSync(this.statePath, 'utf8')) as PersistedJobs;
      this.nextId = Math.max(this.nextId, state.nextId);
      for (const job of state.jobs) this.jobs.set(job.job_id, job);
    }
    for (const job of jobs) this.jobs.set(job.job_id, job);
  }

  /** Listed jobs (not one-time runs' hidden jobs). */
  all(): EmulatorJob[] {
    return [...this.jobs.values()].filter((j) => !this.hidden.has(j.job_id));
  }

  find(jobId: number): EmulatorJob | undefined {
    return this.jobs.get(jobId);
  }

  /** The job, or Databricks' answer for a missing one. */
  get(jobId: number): EmulatorJob {
    const job = this.jobs.get(jobId);
    if (!job || this.hidden.has(jobId)) throw invalid(`Job ${jobId} does not exist.`);
    return job;
  }

  create(settings: EmulatorJobSettings, now: number, options: { hidden?: boolean } = {}): EmulatorJob {
    const job: EmulatorJob = { job_id: this.nextId++, created_time: now, settings };
    this.jobs.set(job.job_id, job);
    if (options.hidden) this.hidden.add(job.job_id);
    else this.save();
    return job;
  }

  private save(): void {
    if (!this.statePath) return;
    mkdirSync(join(this.statePath, '..'), { recursive: true });
    const state: PersistedJobs = { version: 1, nextId: this.nextId, jobs: this.all() };
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.statePath);
  }
}
