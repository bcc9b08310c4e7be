import type { Logger } from 'orbiter/shared/logger';
import type { Clock } from './clock';
import type { JobStore } from './jobStore';
import type { BundleJob } from '../jobSettings';
import type { LaunchRequest, RunLauncher } from './launcher';
import { QuartzSchedule } from './quartz';
import { TERMINAL, type RunRecord } from './records';

export interface SchedulerOptions {
  clock: Clock;
  logger: Logger;
  /** First restart delay after a failed continuous run; doubles per consecutive failure (default 10 s). */
  continuousBackoffMs?: number;
  /** Longest restart delay (default 5 min). */
  continuousMaxBackoffMs?: number;
}

const MIN_SCHEDULE_INTERVAL_MS = 10_000;

interface ContinuousState {
  failures: number;
  timer?: { cancel(): void };
}

/**
 * Time-based triggers, as the Databricks job scheduler does them: an UNPAUSED Quartz `schedule` starts a PERIODIC
 * run at each fire time; an UNPAUSED `continuous` job always has one run — a new one starts when the last ends,
 * after an exponential backoff when it failed. PAUSED settings start nothing.
 */
export class JobScheduler {
  private readonly cronTimers = new Map<number, { cancel(): void }>();
  private readonly continuous = new Map<number, ContinuousState>();
  private stopped = false;

  constructor(
    private readonly jobs: JobStore,
    private readonly launcher: RunLauncher,
    private readonly activeRuns: (jobId: number) => RunRecord[],
    private readonly options: SchedulerOptions,
  ) {}

  /**
   * Arms the triggers of every job (start), or re-arms one job's after jobs/create, reset, update or delete: its
   * old schedule timer goes, a continuous trigger that is no longer UNPAUSED stops.
   */
  refresh(jobId?: number): void {
    if (this.stopped) return;
    if (jobId !== undefined) {
      this.cronTimers.get(jobId)?.cancel();
      this.cronTimers.delete(jobId);
      const job = this.jobs.find(jobId);
      if (job?.settings.continuous?.pause_status !== 'UNPAUSED') {
        this.continuous.get(jobId)?.timer?.cancel();
        this.continuous.delete(jobId);
      }
      if (job) this.arm(job);
      return;
    }
    for (const job of this.jobs.all()) this.arm(job);
  }

  /** The executor calls this when any run ends. */
  onRunFinished(run: RunRecord): void {
    if (this.stopped) return;
    const job = this.jobs.find(run.job_id);
    if (!job || job.settings.continuous?.pause_status !== 'UNPAUSED') return;
    const state = this.continuous.get(job.job_id) ?? { failures: 0 };
    this.continuous.set(job.job_id, state);
    const failed = run.result_state !== 'SUCCESS' && run.result_state !== 'CANCELED';
    state.failures = failed ? state.failures + 1 : 0;
    const base = this.options.continuousBackoffMs ?? 10_000;
    const delay = failed ? Math.min(this.options.continuousMaxBackoffMs ?? 300_000, base * 2 ** (state.failures - 1)) : 0;
    this.keepContinuous(job, delay, 'CONTINUOUS_RESTART');
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.cronTimers.values()) t.cancel();
    for (const s of this.continuous.values()) s.timer?.cancel();
    this.cronTimers.clear();
    this.continuous.clear();
  }

  private arm(job: BundleJob): void {
    const schedule = job.settings.schedule;
    if (!this.cronTimers.has(job.job_id) && schedule?.pause_status === 'UNPAUSED') {
      try {
        this.armCron(job.job_id, new QuartzSchedule(schedule.quartz_cron_expression, schedule.timezone_id), this.options.clock.now());
      } catch (err) {
        // jobs/create refuses bad expressions; a bundle's reaches here and must not stop the workspace.
        this.options.logger.error('job schedule ignored', { jobId: job.job_id, err: String(err) });
      }
    }
    if (job.settings.continuous?.pause_status === 'UNPAUSED' && !this.continuous.has(job.job_id)) {
      this.continuous.set(job.job_id, { failures: 0 });
      this.keepContinuous(job, 0, 'CONTINUOUS');
    }
  }

  private armCron(jobId: number, cron: QuartzSchedule, after: number): void {
    const at = cron.next(after);
    if (at === undefined) return void this.cronTimers.delete(jobId);
    this.cronTimers.set(
      jobId,
      this.options.clock.at(at, () => {
        this.cronTimers.delete(jobId);
        const job = this.jobs.find(jobId);
        if (this.stopped || !job || job.settings.schedule?.pause_status !== 'UNPAUSED') return;
        this.launch(job, { trigger: 'PERIODIC' });
        // Databricks leaves at least 10 s between runs a schedule triggers, whatever the seconds field says.
        this.armCron(jobId, cron, at + MIN_SCHEDULE_INTERVAL_MS - 1);
      }),
    );
  }

  private keepContinuous(job: BundleJob, delayMs: number, trigger: string): void {
    const state = this.continuous.get(job.job_id);
    if (!state) return;
    state.timer?.cancel();
    const start = (): void => {
      delete state.timer;
      const current = this.jobs.find(job.job_id);
      if (this.stopped || !current || current.settings.continuous?.pause_status !== 'UNPAUSED') return;
      // One active run at a time: a run started some other way (run-now) counts.
      if (this.activeRuns(job.job_id).some((r) => !TERMINAL.has(r.life_cycle_state))) return;
      this.launch(current, { trigger });
    };
    if (delayMs <= 0) start();
    else state.timer = this.options.clock.at(this.options.clock.now() + delayMs, start);
  }

  private launch(job: BundleJob, request: LaunchRequest): void {
    try {
      const run = this.launcher.launch(job, request);
      this.options.logger.info('triggered run', { jobId: job.job_id, runId: run.run_id, trigger: request.trigger });
    } catch (err) {
      this.options.logger.error('triggered run failed to start', { jobId: job.job_id, err: String(err) });
    }
  }
}
