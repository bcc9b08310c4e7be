import { TERMINAL, taskTermination, type RunRecord, type TaskRecord, type Termination } from '../jobs/records';

export interface ViewOptions {
  baseUrl: () => string;
  now: () => number;
  userName: string;
}

/** Jobs API 2.2 response shapes (Job, Run, RunTask, repair_history) built from the emulator's records. */
export class ApiViews {
  constructor(private readonly options: ViewOptions) {}

  private runPageUrl(jobId: number, runId: number): string {
    return `${this.options.baseUrl()}/?o=0#job/${jobId}/run/${runId}`;
  }

  private status(life: string, termination: Termination | undefined, queueReason: string | undefined): unknown {
    const terminal = TERMINAL.has(life);
    return {
      state: terminal ? 'TERMINATED' : life,
      ...(terminal && termination ? { termination_details: termination } : {}),
      ...(life === 'QUEUED' && queueReason ? { queue_details: { code: 'MAX_CONCURRENT_RUNS_REACHED', message: queueReason } } : {}),
    };
  }

  private durations(start: number, runningStart: number | undefined, end: number | undefined, setup = 0): Record<string, number> {
    const stop = end ?? this.options.now();
    const exec = runningStart !== undefined ? Math.max(0, stop - runningStart - setup) : 0;
    return { setup_duration: setup, execution_duration: exec, cleanup_duration: 0, run_duration: Math.max(0, stop - start) };
  }

  task(run: RunRecord, t: TaskRecord): Record<string, unknown> {
    return {
      run_id: t.run_id,
      task_key: t.task_key,
      ...(t.depends_on.length > 0 ? { depends_on: t.depends_on } : {}),
      ...(t.notebook_task ? { notebook_task: { ...t.notebook_task, source: 'WORKSPACE' } } : {}),
      state: {
        life_cycle_state: t.life_cycle_state,
        ...(t.result_state ? { result_state: t.result_state } : {}),
        state_message: t.state_message,
        user_cancelled_or_timedout: t.result_state === 'CANCELED' || t.result_state === 'TIMEDOUT',
      },
      status: this.status(t.life_cycle_state, t.result_state ? (t.termination ?? taskTermination(t)) : undefined, undefined),
      start_time: t.start_time,
      end_time: t.end_time ?? 0,
      ...(t.cluster_instance ? { cluster_instance: t.cluster_instance } : {}),
      ...this.durations(t.start_time, t.running_start, t.end_time, t.setup_ms ?? 0),
      attempt_number: t.attempt_number,
      run_page_url: this.runPageUrl(run.job_id, t.run_id),
    };
  }

  taskAsRun(run: RunRecord, t: TaskRecord): unknown {
    return {
      job_id: run.job_id,
      run_id: t.run_id,
      number_in_job: t.run_id,
      creator_user_name: run.creator_user_name,
      run_name: t.task_key,
      run_type: run.run_type ?? 'JOB_RUN',
      trigger: run.trigger ?? 'ONE_TIME',
      ...this.task(run, t),
    };
  }

  run(run: RunRecord, withTasks: boolean): unknown {
    return {
      job_id: run.job_id,
      run_id: run.run_id,
      number_in_job: run.run_id,
      original_attempt_run_id: run.run_id,
      creator_user_name: run.creator_user_name,
      run_name: run.job_name,
      run_type: run.run_type ?? 'JOB_RUN',
      trigger: run.trigger ?? 'ONE_TIME',
      format: 'MULTI_TASK',
      state: {
        life_cycle_state: run.life_cycle_state,
        ...(run.result_state ? { result_state: run.result_state } : {}),
        state_message: run.state_message,
        user_cancelled_or_timedout: run.user_cancelled_or_timedout,
        ...(run.queue_reason ? { queue_reason: run.queue_reason } : {}),
      },
      status: this.status(run.life_cycle_state, run.termination, run.queue_reason),
      ...(withTasks ? { tasks: run.tasks.map((t) => this.task(run, t)) } : {}),
      job_parameters: run.parameter_defaults.map((p) => ({ name: p.name, default: p.default, value: run.job_parameters[p.name] ?? p.default })),
      start_time: run.start_time,
      end_time: run.end_time ?? 0,
      ...clusterOf(run),
      ...this.durations(
        run.start_time,
        run.running_start,
        run.end_time,
        run.tasks.reduce((sum, t) => sum + (t.setup_ms ?? 0), 0),
      ),
      ...(run.running_start !== undefined && run.running_start > run.created_time ? { queue_duration: run.running_start - run.created_time } : {}),
      run_page_url: this.runPageUrl(run.job_id, run.run_id),
      ...(run.repairs.length > 1
        ? {
            repair_history: run.repairs.map((r) => ({
              type: r.type,
              ...(r.id !== undefined ? { id: r.id } : {}),
              start_time: r.start_time,
              end_time: r.end_time ?? 0,
              state: {
                life_cycle_state: r.life_cycle_state ?? run.life_cycle_state,
                ...(r.result_state ? { result_state: r.result_state } : {}),
                state_message: r.state_message ?? '',
              },
              status: this.status(r.life_cycle_state ?? run.life_cycle_state, r.termination, undefined),
              task_run_ids: r.task_run_ids,
            })),
          }
        : {}),
    };
  }
}

/** A run's cluster_instance: the cluster of its first task that ran on one. */
function clusterOf(run: RunRecord): Record<string, unknown> {
  const t = run.tasks.find((task) => task.cluster_instance);
  return t?.cluster_instance ? { cluster_instance: t.cluster_instance } : {};
}
