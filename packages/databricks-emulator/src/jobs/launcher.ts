import type { Logger } from 'orbiter/shared/logger';
import type { RunExecutor } from './executor';
import type { BundleJob } from '../jobSettings';
import type { RunRecord } from './records';
import type { RunStore } from './runStore';

export interface LaunchRequest {
  /** Job parameter overrides (names already checked against the job). */
  jobParameters?: Record<string, string>;
  notebookParams?: Record<string, string>;
  /** Task keys to run (run-now `only`, expanded); default every task. */
  taskKeys?: Set<string>;
  idempotencyToken?: string;
  queueEnabled?: boolean;
  trigger?: string;
  runType?: RunRecord['run_type'];
}

/**
 * Creates a run of a job and either starts it, queues it (per-job max_concurrent_runs reached and queueing on) or
 * skips it (queueing off): the one path for run-now, runs/submit, schedules and continuous jobs.
 */
export class RunLauncher {
  constructor(
    private readonly store: RunStore,
    private readonly executor: RunExecutor,
    private readonly options: { now: () => number; userName: string; logger: Logger },
  ) {}

  launch(job: BundleJob, request: LaunchRequest): RunRecord {
    const now = this.options.now();
    const busy = this.executor.activeCount(job.job_id);
    const runId = this.store.id();
    const merged: Record<string, string> = {};
    for (const p of job.settings.parameters) merged[p.name] = p.default;
    Object.assign(merged, request.jobParameters ?? {});
    const defs = job.settings.tasks.filter((t) => !request.taskKeys || request.taskKeys.has(t.task_key));
    const queueEnabled = request.queueEnabled ?? job.settings.queue.enabled;
    const run: RunRecord = {
      run_id: runId,
      job_id: job.job_id,
      job_name: job.settings.name,
      creator_user_name: this.options.userName,
      ...(request.idempotencyToken ? { idempotency_token: request.idempotencyToken } : {}),
      job_parameters: merged,
      parameter_defaults: job.settings.parameters,
      ...(request.notebookParams && Object.keys(request.notebookParams).length > 0 ? { notebook_params: request.notebookParams } : {}),
      queue_enabled: queueEnabled,
      life_cycle_state: 'PENDING',
      state_message: '',
      user_cancelled_or_timedout: false,
      cancel_requested: false,
      created_time: now,
      start_time: now,
      tasks: defs.map((t) => this.executor.newTask(t, now, 0)),
      repairs: [],
      ...(request.runType && request.runType !== 'JOB_RUN' ? { run_type: request.runType } : {}),
      ...(request.trigger && request.trigger !== 'ONE_TIME' ? { trigger: request.trigger } : {}),
    };
    run.repairs.push({ type: 'ORIGINAL', start_time: now, task_run_ids: run.tasks.map((t) => t.run_id) });
    this.store.add(run);

    const max = job.settings.max_concurrent_runs;
    if (busy >= max) {
      if (queueEnabled) {
        run.life_cycle_state = 'QUEUED';
        run.queue_reason = `Queued due to reaching maximum concurrent runs of ${max}.`;
        run.state_message = run.queue_reason;
      } else {
        const message = `Skipping this run because the limit of ${max} maximum concurrent runs has been reached.`;
        // A skipped run's tasks never start: they end with it.
        for (const t of run.tasks) {
          t.life_cycle_state = 'SKIPPED';
          t.result_state = 'MAXIMUM_CONCURRENT_RUNS_REACHED';
          t.state_message = message;
          t.end_time = now;
          t.termination = { code: 'MAX_CONCURRENT_RUNS_EXCEEDED', type: 'CLIENT_ERROR', message };
        }
        this.executor.finish(run, {
          life: 'SKIPPED',
          result: 'MAXIMUM_CONCURRENT_RUNS_REACHED',
          message,
          termination: {
            code: 'MAX_CONCURRENT_RUNS_EXCEEDED',
            type: 'CLIENT_ERROR',
            message: `The limit of ${max} concurrent runs has been reached.`,
          },
        });
        return run;
      }
    } else {
      this.executor.start(run, new Set(run.tasks.map((t) => t.task_key)));
    }
    this.store.save();
    this.options.logger.info('run created', { jobId: job.job_id, runId, state: run.life_cycle_state, trigger: request.trigger ?? 'ONE_TIME' });
    return run;
  }
}
