import type { Logger } from 'orbiter/shared/logger';
import type { RunExecutor } from '../jobs/executor';
import type { JobStore } from '../jobs/jobStore';
import { TERMINAL, type RunRecord, type TaskRecord } from '../jobs/records';
import type { RunStore } from '../jobs/runStore';
import { invalid } from './errors';
import { page, pageWindow, toBool, toInt, toParams } from './params';
import type { ApiViews } from './views';

const OUTPUT_CAP = 5 * 1024 * 1024;

export interface RunsVerbsOptions {
  now: () => number;
  userName: string;
  logger: Logger;
}

/** jobs/run-now and jobs/runs/*: validates each request and applies it to the run store and the executor. */
export class RunsVerbs {
  constructor(
    private readonly jobs: JobStore,
    private readonly store: RunStore,
    private readonly executor: RunExecutor,
    private readonly views: ApiViews,
    private readonly options: RunsVerbsOptions,
  ) {}

  runNow(body: Record<string, unknown>): { run_id: number; number_in_job: number } {
    const jobId = toInt(body['job_id'], 'job_id', true);
    const token = body['idempotency_token'];
    if (token !== undefined && token !== null) {
      if (typeof token !== 'string') throw invalid('idempotency_token must be a string');
      if (token.length > 64) throw invalid(`Idempotency token length must be less than or equal to 64 characters (got ${token.length}).`);
    }
    const job = this.jobs.get(jobId);
    if (typeof token === 'string' && token !== '') {
      const existing = this.store.byToken(token);
      // A repeat returns the existing run, whatever its state (even a failed one).
      if (existing !== undefined) return { run_id: existing, number_in_job: existing };
    }
    const params = toParams(body['job_parameters'], 'job_parameters');
    const defined = new Set(job.settings.parameters.map((p) => p.name));
    const unknown = Object.keys(params).filter((k) => !defined.has(k));
    if (unknown.length > 0) throw invalid(`Job parameters [${unknown.join(', ')}] are not defined in job ${jobId}.`);
    const queue = body['queue'];
    const queueEnabled =
      typeof queue === 'object' && queue !== null && typeof (queue as { enabled?: unknown }).enabled === 'boolean'
        ? (queue as { enabled: boolean }).enabled
        : job.settings.queue.enabled;

    const now = this.options.now();
    const busy = this.executor.activeCount(jobId);
    const runId = this.store.id();
    const merged: Record<string, string> = {};
    for (const p of job.settings.parameters) merged[p.name] = p.default;
    Object.assign(merged, params);
    const run: RunRecord = {
      run_id: runId,
      job_id: jobId,
      job_name: job.settings.name,
      creator_user_name: this.options.userName,
      ...(typeof token === 'string' && token !== '' ? { idempotency_token: token } : {}),
      job_parameters: merged,
      parameter_defaults: job.settings.parameters,
      queue_enabled: queueEnabled,
      life_cycle_state: 'PENDING',
      state_message: '',
      user_cancelled_or_timedout: false,
      cancel_requested: false,
      created_time: now,
      start_time: now,
      tasks: job.settings.tasks.map((t) => this.executor.newTask(t, now, 0)),
      repairs: [],
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
        this.executor.finish(run, {
          life: 'SKIPPED',
          result: 'MAXIMUM_CONCURRENT_RUNS_REACHED',
          message: `Skipping this run because the limit of ${max} maximum concurrent runs has been reached.`,
          termination: {
            code: 'MAX_CONCURRENT_RUNS_EXCEEDED',
            type: 'CLIENT_ERROR',
            message: `The limit of ${max} concurrent runs has been reached.`,
          },
        });
        return { run_id: runId, number_in_job: runId };
      }
    } else {
      this.executor.start(run, new Set(run.tasks.map((t) => t.task_key)));
    }
    this.store.save();
    this.options.logger.info('run-now', { jobId, runId, state: run.life_cycle_state });
    return { run_id: runId, number_in_job: runId };
  }

  get(q: Record<string, unknown>): unknown {
    const id = toInt(q['run_id'], 'run_id', true);
    const run = this.store.run(id);
    if (run) return this.views.run(run, true);
    const parent = this.store.ownerOf(id);
    if (parent) return this.views.taskAsRun(parent, parent.tasks.find((t) => t.run_id === id) ?? historicTask(parent, id));
    throw invalid(`Run ${id} does not exist.`);
  }

  list(q: Record<string, unknown>): unknown {
    const jobId = toInt(q['job_id'], 'job_id', false);
    if (jobId !== undefined) this.jobs.get(jobId);
    const activeOnly = toBool(q['active_only'], 'active_only');
    const completedOnly = toBool(q['completed_only'], 'completed_only');
    if (activeOnly && completedOnly) throw invalid('active_only and completed_only cannot both be true');
    const { offset, limit } = pageWindow(q, 20, 25);
    const from = toInt(q['start_time_from'], 'start_time_from', false);
    const to = toInt(q['start_time_to'], 'start_time_to', false);
    const expand = toBool(q['expand_tasks'], 'expand_tasks');
    const all = [...this.store.runs.values()]
      .filter((r) => jobId === undefined || r.job_id === jobId)
      .filter((r) => !activeOnly || !TERMINAL.has(r.life_cycle_state))
      .filter((r) => !completedOnly || TERMINAL.has(r.life_cycle_state))
      .filter((r) => (from === undefined || r.start_time >= from) && (to === undefined || r.start_time <= to))
      .sort((a, b) => b.run_id - a.run_id);
    return page(all, offset, limit, 'runs', (r) => this.views.run(r, expand));
  }

  cancel(body: Record<string, unknown>): Record<string, never> {
    const id = toInt(body['run_id'], 'run_id', true);
    const run = this.store.run(id);
    if (!run) throw invalid(`Run ${id} does not exist.`);
    this.executor.cancel(run);
    return {};
  }

  output(q: Record<string, unknown>): unknown {
    const id = toInt(q['run_id'], 'run_id', true);
    let parent = this.store.run(id);
    let task: TaskRecord | undefined;
    if (parent) {
      if (parent.tasks.length !== 1) {
        throw invalid(
          'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.',
        );
      }
      task = parent.tasks[0]!;
    } else {
      parent = this.store.ownerOf(id);
      if (!parent) throw invalid(`Run ${id} does not exist.`);
      task = parent.tasks.find((t) => t.run_id === id) ?? historicTask(parent, id);
    }
    const out = task.output;
    const result = out?.notebook_output ?? null;
    return {
      metadata: this.views.taskAsRun(parent, task),
      ...(result !== null ? { notebook_output: { result: result.slice(0, OUTPUT_CAP), truncated: result.length > OUTPUT_CAP } } : {}),
      ...(out?.error ? { error: out.error } : {}),
      ...(out?.error_trace ? { error_trace: out.error_trace } : {}),
    };
  }

  repair(body: Record<string, unknown>): { repair_id: number } {
    const id = toInt(body['run_id'], 'run_id', true);
    const run = this.store.run(id);
    if (!run) throw invalid(`Run ${id} does not exist.`);
    if (!TERMINAL.has(run.life_cycle_state) || run.life_cycle_state === 'SKIPPED') {
      throw invalid(`Run ${id} cannot be repaired: it is in state ${run.life_cycle_state}.`);
    }
    const latest = [...run.repairs].reverse().find((r) => r.type === 'REPAIR')?.id;
    const given = toInt(body['latest_repair_id'], 'latest_repair_id', false);
    if (given !== latest) {
      throw invalid(
        latest === undefined
          ? `Run ${id} has not been repaired yet; latest_repair_id must not be set.`
          : `The latest_repair_id ${given ?? '(missing)'} does not match the latest repair ${latest} of run ${id}.`,
      );
    }
    const keys = new Set<string>();
    if (Array.isArray(body['rerun_tasks'])) {
      for (const k of body['rerun_tasks']) {
        if (typeof k !== 'string' || !run.tasks.some((t) => t.task_key === k)) throw invalid(`Task ${String(k)} is not part of run ${id}.`);
        keys.add(k);
      }
    }
    if (toBool(body['rerun_all_failed_tasks'], 'rerun_all_failed_tasks')) {
      for (const t of run.tasks) if (t.result_state !== 'SUCCESS') keys.add(t.task_key);
    }
    if (!Array.isArray(body['rerun_tasks']) && body['rerun_all_failed_tasks'] !== true) {
      throw invalid('Either rerun_tasks or rerun_all_failed_tasks must be specified.');
    }
    if (toBool(body['rerun_dependent_tasks'], 'rerun_dependent_tasks')) {
      // Also re-run downstream tasks, even ones that succeeded before.
      let grew = true;
      while (grew) {
        grew = false;
        for (const t of run.tasks) {
          if (!keys.has(t.task_key) && t.depends_on.some((d) => keys.has(d.task_key))) {
            keys.add(t.task_key);
            grew = true;
          }
        }
      }
    }
    if (keys.size === 0) throw invalid(`Run ${id} has no tasks to repair.`);
    const params = toParams(body['job_parameters'], 'job_parameters');
    const defined = new Set(run.parameter_defaults.map((p) => p.name));
    const unknown = Object.keys(params).filter((k) => !defined.has(k));
    if (unknown.length > 0) throw invalid(`Job parameters [${unknown.join(', ')}] are not defined in job ${run.job_id}.`);
    Object.assign(run.job_parameters, params);

    const now = this.options.now();
    const repairId = this.store.id();
    run.tasks = run.tasks.map((t) => {
      if (!keys.has(t.task_key)) return t;
      const def = this.jobs.find(run.job_id)?.settings.tasks.find((d) => d.task_key === t.task_key);
      const fresh = def
        ? this.executor.newTask(def, now, t.attempt_number + 1)
        : { ...t, run_id: this.store.id(), attempt_number: t.attempt_number + 1 };
      this.store.own(fresh.run_id, run.run_id);
      return fresh;
    });
    run.repairs.push({
      type: 'REPAIR',
      id: repairId,
      start_time: now,
      task_run_ids: run.tasks.filter((t) => keys.has(t.task_key)).map((t) => t.run_id),
    });
    delete run.result_state;
    delete run.termination;
    delete run.end_time;
    run.user_cancelled_or_timedout = false;
    run.cancel_requested = false;
    this.executor.start(run, keys);
    this.store.save();
    return { repair_id: repairId };
  }
}

/** Task runs replaced by a repair are not kept (the emulator keeps only the latest attempt per task). */
function historicTask(run: RunRecord, taskRunId: number): never {
  throw invalid(`Run ${taskRunId} of run ${run.run_id} was superseded by a repair and its output is no longer available.`);
}
