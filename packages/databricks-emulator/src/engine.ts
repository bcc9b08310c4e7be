import { mkdirSync } from 'node:fs';
import { silentLogger, type Logger } from 'orbiter/shared/logger';
import { RunsVerbs } from './api/runs';
import { ApiViews } from './api/views';
import type { BlobSource } from './blobSource';
import type { BundleJob } from './jobSettings';
import { RunExecutor, type JobNotification } from './jobs/executor';
import { JobStore } from './jobs/jobStore';
import { RunStore } from './jobs/runStore';
import type { NotebookRunner } from './notebookRunner';

export interface JobsEngineOptions {
  /** The workspace's jobs by id, live (jobs created, reset or deleted later are seen by the next run-now). */
  jobs: Map<number, BundleJob>;
  runner: NotebookRunner;
  /** Local lake directory handed to notebooks as lake_root; inputs are materialised under it. */
  lakeRoot: string;
  /** Scratch space: task logs/results, and state.json when persisting. */
  workDir: string;
  blobSource?: BlobSource;
  /** Keep runs in <workDir>/databricks-emulator-state.json across restarts (default false). */
  persist?: boolean;
  baseUrl: () => string;
  now?: () => number;
  logger?: Logger;
  userName?: string;
  /** Notebook tasks running at once across all jobs (each real one starts a Spark JVM); default unlimited. */
  maxParallelTasks?: number;
  /** Called for the job's configured webhook_notifications events (jobs.on_start / on_success / on_failure). */
  notify?: (notification: JobNotification) => void;
}

/** The emulated workspace's run service: stores, executor and run verbs wired once (jobs themselves: ./jobStore.ts). */
export class JobsEngine {
  readonly runs: RunsVerbs;
  private readonly executor: RunExecutor;

  constructor(options: JobsEngineOptions) {
    const now = options.now ?? Date.now;
    const logger = options.logger ?? silentLogger;
    const userName = options.userName ?? 'local-emulator@orbiter.local';
    mkdirSync(options.lakeRoot, { recursive: true });
    const jobStore = new JobStore(options.jobs);
    const runStore = new RunStore(options.workDir, options.persist ?? false);
    this.executor = new RunExecutor(jobStore, runStore, {
      runner: options.runner,
      lakeRoot: options.lakeRoot,
      workDir: options.workDir,
      ...(options.blobSource ? { blobSource: options.blobSource } : {}),
      now,
      logger,
      maxParallelTasks: options.maxParallelTasks ?? Number.POSITIVE_INFINITY,
      ...(options.notify ? { notify: options.notify } : {}),
    });
    const views = new ApiViews({ baseUrl: options.baseUrl, now, userName });
    this.runs = new RunsVerbs(jobStore, runStore, this.executor, views, { now, userName, logger });
    this.executor.recover(runStore.load());
  }

  /** Resolves once no run is executing (tests, shutdown). */
  whenIdle(): Promise<void> {
    return this.executor.whenIdle();
  }

  /** Cancels running work and waits for it; state is saved. */
  close(): Promise<void> {
    return this.executor.close();
  }
}
