import { mkdirSync } from 'node:fs';
import { silentLogger, type Logger } from 'orbiter/shared/logger';
import { RunsVerbs } from './api/runs';
import { ApiViews } from './api/views';
import { cpus } from 'node:os';
import type { BlobSource } from './blobSource';
import { ClusterRegistry } from './clusters/registry';
import type { BundleJob } from './jobSettings';
import { systemClock, type Clock } from './jobs/clock';
import { RunExecutor, type JobNotification } from './jobs/executor';
import { JobStore } from './jobs/jobStore';
import { RunLauncher } from './jobs/launcher';
import { RunStore } from './jobs/runStore';
import { JobScheduler } from './jobs/scheduler';
import { lakeTableVersions, TableUpdateTriggers, type TableVersionReader } from './jobs/tableTriggers';
import type { NotebookRunner } from './notebookRunner';

export interface JobsEngineOptions {
  /** The workspace's jobs by id, live (jobs created, reset or deleted later are seen by the next run-now). */
  jobs: Map<number, BundleJob>;
  /** A fresh job id from the workspace's job store (one-time runs' hidden jobs). */
  newJobId: () => number;
  /** A task's notebook source by its notebook_path (runs/export). */
  readNotebook: (notebookPath: string) => string;
  runner: NotebookRunner;
  /** Local lake directory handed to notebooks as lake_root; inputs are materialised under it. */
  lakeRoot: string;
  /** Scratch space: task logs/results, and state.json when persisting. */
  workDir: string;
  blobSource?: BlobSource;
  /** Keep runs in <workDir>/databricks-emulator-state.json across restarts (default false). */
  persist?: boolean;
  baseUrl: () => string;
  /** Time for runs and the scheduler (schedules, continuous restarts); default the system clock. */
  clock?: Clock;
  logger?: Logger;
  userName?: string;
  /** Notebook tasks running at once across all jobs (each real one starts a Spark JVM); default unlimited. */
  maxParallelTasks?: number;
  /** Called for the job's configured webhook_notifications events (jobs.on_start / on_success / on_failure). */
  notify?: (notification: JobNotification) => void;
  /** First restart delay of a failed continuous run (doubles per failure, at most 5 min); default 10 s. */
  continuousBackoffMs?: number;
  /** Latest Delta version of a Unity Catalog table name (table-update triggers); default <lakeRoot>/<schema>/<table>. */
  tableVersion?: TableVersionReader;
  /**
   * Warm clusters: a job cluster outlives its run and serves the next run with the same cluster spec until idle for
   * autoterminationMinutes (the spec's autotermination_minutes wins). Unset: clusters end with their run.
   */
  warmClusters?: { autoterminationMinutes: number };
  /** false: ignore job clusters, every notebook task gets a Spark of its own (the benchmark's baseline). */
  jobClusters?: boolean;
  /** Cores a cluster may use at most (default: the machine's). */
  machineCores?: number;
}

/**
 * The emulated workspace's run service: stores, executor, scheduler and run verbs wired once (jobs themselves:
 * ./jobStore.ts, which calls jobsChanged after every create/reset/update/delete).
 */
export class JobsEngine {
  readonly runs: RunsVerbs;
  readonly clusters: ClusterRegistry;
  private readonly executor: RunExecutor;
  private readonly scheduler: JobScheduler;
  private readonly tableTriggers: TableUpdateTriggers;

  private readonly runner: NotebookRunner;

  constructor(options: JobsEngineOptions) {
    this.runner = options.runner;
    const clock = options.clock ?? systemClock;
    const now = (): number => clock.now();
    const logger = options.logger ?? silentLogger;
    const userName = options.userName ?? 'local-emulator@orbiter.local';
    mkdirSync(options.lakeRoot, { recursive: true });
    const jobStore = new JobStore(options.jobs, options.newJobId);
    const runStore = new RunStore(options.workDir, options.persist ?? false);
    this.clusters = new ClusterRegistry({
      now,
      machineCores: options.machineCores ?? cpus().length,
      stopDriver: (id) => options.runner.releaseCluster?.(id) ?? Promise.resolve(),
      // Warm drivers per cluster spec: as many as tasks may run at once (each runs one task at a time).
      ...(options.warmClusters
        ? { warm: { ...options.warmClusters, maxPerSpec: Number.isFinite(options.maxParallelTasks ?? Infinity) ? options.maxParallelTasks! : 1 } }
        : {}),
    });
    this.executor = new RunExecutor(jobStore, runStore, {
      runner: options.runner,
      lakeRoot: options.lakeRoot,
      workDir: options.workDir,
      ...(options.blobSource ? { blobSource: options.blobSource } : {}),
      now,
      logger,
      maxParallelTasks: options.maxParallelTasks ?? Number.POSITIVE_INFINITY,
      ...(options.notify ? { notify: options.notify } : {}),
      ...(options.jobClusters === false ? {} : { clusters: this.clusters }),
    });
    const launcher = new RunLauncher(runStore, this.executor, { now, userName, logger });
    this.scheduler = new JobScheduler(jobStore, launcher, (jobId) => [...runStore.runs.values()].filter((r) => r.job_id === jobId), {
      clock,
      logger,
      ...(options.continuousBackoffMs !== undefined ? { continuousBackoffMs: options.continuousBackoffMs } : {}),
    });
    this.tableTriggers = new TableUpdateTriggers(jobStore, launcher, {
      clock,
      logger,
      tableVersion: options.tableVersion ?? lakeTableVersions(options.lakeRoot),
    });
    const views = new ApiViews({ baseUrl: options.baseUrl, now, userName });
    this.runs = new RunsVerbs(jobStore, runStore, this.executor, launcher, views, {
      now,
      readNotebook: options.readNotebook,
      workDir: options.workDir,
    });
    this.executor.recover(runStore.load());
    this.executor.onFinish = (run) => {
      this.scheduler.onRunFinished(run);
      this.tableTriggers.check();
    };
    this.scheduler.refresh();
    this.tableTriggers.refresh();
  }

  /** A job was created, reset, updated or deleted: re-arm its schedule / continuous trigger. */
  jobsChanged(jobId: number): void {
    this.scheduler.refresh(jobId);
    this.tableTriggers.refresh(jobId);
  }

  /** Resolves once no run is executing (tests, shutdown). */
  whenIdle(): Promise<void> {
    return this.executor.whenIdle();
  }

  /** Stops the scheduler, cancels running work and waits for it; state is saved. */
  close(): Promise<void> {
    this.scheduler.stop();
    this.tableTriggers.stop();
    return this.executor
      .close()
      .then(() => this.clusters.close())
      .then(() => this.runner.close?.());
  }
}
