import { basename } from 'node:path';
import { emulatorSettings, parseJobSettings, type BundleJob } from '../jobSettings';
import type { RunExecutor } from '../jobs/executor';
import type { JobStore } from '../jobs/jobStore';
import type { RunLauncher } from '../jobs/launcher';
import { ACTIVE, TERMINAL, type RunRecord, type TaskRecord } from '../jobs/records';
import type { RunStore } from '../jobs/runStore';
import { invalid } from './errors';
import { page, pageWindow, rejectUnknownFields, toBool, toInt, toParams, toStringList } from './params';
import { readTaskLog, taskLogPath } from './taskLogs';
import type { ApiViews } from './views';

const OUTPUT_CAP = 5 * 1024 * 1024;

/** Task-type parameter fields of run-now / repair that predate job parameters. */
const LEGACY_PARAMS = [
  'notebook_params',
  'python_params',
  'jar_params',
  'spark_submit_params',
  'python_named_params',
  'sql_params',
  'dbt_commands',
  'pipeline_params',
] as const;

const RUN_NOW_FIELDS = ['job_id', 'idempotency_token', 'job_parameters', 'queue', 'only', 'performance_target', ...LEGACY_PARAMS];
const REPAIR_FIELDS = [
  'run_id',
  'latest_repair_id',
  'rerun_tasks',
  'rerun_all_failed_tasks',
  'rerun_dependent_tasks',
  'job_parameters',
  'performance_target',
  ...LEGACY_PARAMS,
];
const SUBMIT_FIELDS = [
  'run_name',
  'tasks',
  'idempotency_token',
  'timeout_seconds',
  'webhook_notifications',
  'email_notifications',
  'notification_settings',
  'queue',
  'environments',
  'git_source',
  'health',
  'access_control_list',
  'budget_policy_id',
  'usage_policy_id',
  'run_as',
];

/** jobs/run-now and jobs/runs/*: validates each request and applies it to the run store and the executor. */
export class RunsVerbs {
  constructor(
    private readonly jobs: JobStore,
    private readonly store: RunStore,
    private readonly executor: RunExecutor,
    private readonly launcher: RunLauncher,
    private readonly views: ApiViews,
    private readonly options: { now: () => number; readNotebook: (notebookPath: string) => string; workDir?: string },
  ) {}

  private now(): number {
    return this.options.now();
  }

  runNow(body: Record<string, unknown>): { run_id: number; number_in_job: number } {
    rejectUnknownFields(body, RUN_NOW_FIELDS, 'run-now');
    const jobId = toInt(body['job_id'], 'job_id', true);
    const token = idempotencyToken(body['idempotency_token']);
    const job = this.jobs.get(jobId);
    if (token) {
      const existing = this.store.byToken(token);
      // A repeat returns the existing run, whatever its state (even a failed one).
      if (existing !== undefined) return { run_id: existing, number_in_job: existing };
    }
    const params = this.jobParameters(job, body['job_parameters']);
    const notebookParams = legacyParameters(job, body, params);
    const only = toStringList(body['only'], 'only');
    const run = this.launcher.launch(job, {
      jobParameters: params,
      notebookParams,
      ...(only ? { taskKeys: selectTasks(job, only) } : {}),
      ...(token ? { idempotencyToken: token } : {}),
      ...(queueEnabled(body['queue']) !== undefined ? { queueEnabled: queueEnabled(body['queue'])! } : {}),
    });
    return { run_id: run.run_id, number_in_job: run.run_id };
  }

  /** runs/submit: a one-time run of tasks given in the request (its job is hidden from jobs/list). */
  submit(body: Record<string, unknown>): { run_id: number } {
    rejectUnknownFields(body, SUBMIT_FIELDS, 'runs/submit');
    const token = idempotencyToken(body['idempotency_token']);
    if (token) {
      const existing = this.store.byToken(token);
      if (existing !== undefined) return { run_id: existing };
    }
    if (!Array.isArray(body['tasks']) || body['tasks'].length === 0) throw invalid('At least one task is required in runs/submit.');
    const { run_name, idempotency_token: _t, ...rest } = body;
    const settings = parseJobSettings(
      { ...rest, name: typeof run_name === 'string' && run_name !== '' ? run_name : 'Untitled', max_concurrent_runs: 1 },
      'runs/submit',
    );
    const job = this.jobs.createHidden(emulatorSettings(settings));
    const run = this.launcher.launch(job, { runType: 'SUBMIT_RUN', ...(token ? { idempotencyToken: token } : {}) });
    return { run_id: run.run_id };
  }

  get(q: Record<string, unknown>): unknown {
    const id = toInt(q['run_id'], 'run_id', true);
    const run = this.store.run(id);
    if (run) return this.views.run(run, true);
    const parent = this.store.ownerOf(id);
    if (parent) return this.views.taskAsRun(parent, taskRun(parent, id));
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
    const runType = typeof q['run_type'] === 'string' && q['run_type'] !== '' ? q['run_type'] : undefined;
    const all = [...this.store.runs.values()]
      .filter((r) => jobId === undefined || r.job_id === jobId)
      .filter((r) => runType === undefined || (r.run_type ?? 'JOB_RUN') === runType)
      .filter((r) => !activeOnly || !TERMINAL.has(r.life_cycle_state))
      .filter((r) => !completedOnly || TERMINAL.has(r.life_cycle_state))
      .filter((r) => (from === undefined || r.start_time >= from) && (to === undefined || r.start_time <= to))
      .sort((a, b) => b.run_id - a.run_id);
    return page(all, offset, limit, 'runs', (r) => this.views.run(r, expand));
  }

  cancel(body: Record<string, unknown>): Record<string, never> {
    rejectUnknownFields(body, ['run_id'], 'runs/cancel');
    const id = toInt(body['run_id'], 'run_id', true);
    const run = this.store.run(id) ?? this.store.ownerOf(id);
    if (!run) throw invalid(`Run ${id} does not exist.`);
    this.executor.cancel(run);
    return {};
  }

  /** runs/cancel-all: every active and queued run of a job, or (all_queued_runs) every queued run. */
  cancelAll(body: Record<string, unknown>): Record<string, never> {
    rejectUnknownFields(body, ['job_id', 'all_queued_runs'], 'runs/cancel-all');
    const jobId = toInt(body['job_id'], 'job_id', false);
    const allQueued = toBool(body['all_queued_runs'], 'all_queued_runs');
    if (jobId === undefined && !allQueued) throw invalid('Either job_id or all_queued_runs must be set.');
    if (jobId !== undefined) this.jobs.get(jobId);
    for (const run of [...this.store.runs.values()]) {
      const queued = run.life_cycle_state === 'QUEUED';
      const ofJob = jobId !== undefined && run.job_id === jobId;
      if ((ofJob && (queued || ACTIVE.has(run.life_cycle_state))) || (allQueued && queued && (jobId === undefined || ofJob)))
        this.executor.cancel(run);
    }
    return {};
  }

  /** runs/delete: a finished run disappears (runs/get then answers that it does not exist). */
  delete(body: Record<string, unknown>): Record<string, never> {
    rejectUnknownFields(body, ['run_id'], 'runs/delete');
    const id = toInt(body['run_id'], 'run_id', true);
    const run = this.store.run(id);
    if (!run) throw invalid(`Run ${id} does not exist.`);
    if (!TERMINAL.has(run.life_cycle_state)) throw invalid(`Run ${id} is active (${run.life_cycle_state}); only a finished run can be deleted.`);
    this.store.delete(run);
    return {};
  }

  /** runs/export: the notebook task's source and output as an HTML view (CODE); no dashboards exist locally. */
  export(q: Record<string, unknown>): unknown {
    const id = toInt(q['run_id'], 'run_id', true);
    const which = typeof q['views_to_export'] === 'string' && q['views_to_export'] !== '' ? q['views_to_export'] : 'CODE';
    if (!['CODE', 'DASHBOARDS', 'ALL'].includes(which)) throw invalid(`Invalid value for views_to_export: ${which} (CODE, DASHBOARDS or ALL)`);
    const { task } = this.taskOf(id);
    if (which === 'DASHBOARDS') return { views: [] };
    const path = task.notebook_task?.notebook_path;
    let source = '';
    if (path) {
      try {
        source = this.options.readNotebook(path);
      } catch (err) {
        source = `# notebook source unavailable: ${(err as Error).message}`;
      }
    }
    const name = path ? basename(path).replace(/\.(py|ipynb)$/, '') : task.task_key;
    const output = task.output?.notebook_output ?? task.output?.error ?? '';
    const content = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(name)}</title></head><body><h1>${escapeHtml(name)}</h1><pre class="source">${escapeHtml(source)}</pre><pre class="output">${escapeHtml(output)}</pre></body></html>`;
    return { views: [{ content, name, type: 'NOTEBOOK' }] };
  }

  /** A run's record (the run page reads it). */
  record(runId: number): RunRecord | undefined {
    return this.store.run(runId);
  }

  /** The newest runs first (the workspace's run list page). */
  recent(limit: number): RunRecord[] {
    return [...this.store.runs.values()].sort((a, b) => b.run_id - a.run_id).slice(0, limit);
  }

  output(q: Record<string, unknown>): unknown {
    const id = toInt(q['run_id'], 'run_id', true);
    const { parent, task } = this.taskOf(id);
    const out = task.output;
    const result = out?.notebook_output ?? null;
    const log = this.options.workDir ? readTaskLog(taskLogPath(this.options.workDir, parent.run_id, task.run_id, task.task_key)) : undefined;
    return {
      metadata: this.views.taskAsRun(parent, task),
      ...(log ? { logs: log.logs, logs_truncated: log.truncated } : {}),
      ...(result !== null ? { notebook_output: { result: result.slice(0, OUTPUT_CAP), truncated: result.length > OUTPUT_CAP } } : {}),
      ...(out?.error ? { error: out.error } : {}),
      ...(out?.error_trace ? { error_trace: out.error_trace } : {}),
    };
  }

  repair(body: Record<string, unknown>): { repair_id: number } {
    rejectUnknownFields(body, REPAIR_FIELDS, 'runs/repair');
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
    const rerun = toStringList(body['rerun_tasks'], 'rerun_tasks');
    for (const k of rerun ?? []) {
      if (!run.tasks.some((t) => t.task_key === k)) throw invalid(`Task ${k} is not part of run ${id}.`);
      keys.add(k);
    }
    const allFailed = toBool(body['rerun_all_failed_tasks'], 'rerun_all_failed_tasks');
    if (allFailed) for (const t of run.tasks) if (t.result_state !== 'SUCCESS') keys.add(t.task_key);
    if (!rerun && !allFailed) throw invalid('Either rerun_tasks or rerun_all_failed_tasks must be specified.');
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
    const job = this.jobs.find(run.job_id);
    const params = toParams(body['job_parameters'], 'job_parameters');
    const defined = new Set(run.parameter_defaults.map((p) => p.name));
    const unknown = Object.keys(params).filter((k) => !defined.has(k));
    if (unknown.length > 0) throw invalid(`Job parameters [${unknown.join(', ')}] are not defined in job ${run.job_id}.`);
    const notebookParams = job ? legacyParameters(job, body, params) : {};
    Object.assign(run.job_parameters, params);
    if (Object.keys(notebookParams).length > 0) run.notebook_params = { ...run.notebook_params, ...notebookParams };

    const now = this.now();
    const repairId = this.store.id();
    run.tasks = run.tasks.map((t) => {
      if (!keys.has(t.task_key)) return t;
      // The replaced attempt stays readable through runs/get and runs/get-output.
      (run.superseded ??= []).push(t);
      const def = job?.settings.tasks.find((d) => d.task_key === t.task_key);
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

  private jobParameters(job: BundleJob, value: unknown): Record<string, string> {
    const params = toParams(value, 'job_parameters');
    const defined = new Set(job.settings.parameters.map((p) => p.name));
    const unknown = Object.keys(params).filter((k) => !defined.has(k));
    if (unknown.length > 0) throw invalid(`Job parameters [${unknown.join(', ')}] are not defined in job ${job.job_id}.`);
    return params;
  }

  /** The single task run a run id names: a task run, or a job run with exactly one task. */
  private taskOf(id: number): { parent: RunRecord; task: TaskRecord } {
    const parent = this.store.run(id);
    if (parent) {
      if (parent.tasks.length !== 1) {
        throw invalid(
          'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.',
        );
      }
      return { parent, task: parent.tasks[0]! };
    }
    const owner = this.store.ownerOf(id);
    if (!owner) throw invalid(`Run ${id} does not exist.`);
    return { parent: owner, task: taskRun(owner, id) };
  }
}

/** A task run of `run`: current, or superseded by a repair. */
function taskRun(run: RunRecord, taskRunId: number): TaskRecord {
  const task = run.tasks.find((t) => t.run_id === taskRunId) ?? run.superseded?.find((t) => t.run_id === taskRunId);
  if (!task) throw invalid(`Run ${taskRunId} does not exist.`);
  return task;
}

function idempotencyToken(token: unknown): string | undefined {
  if (token === undefined || token === null || token === '') return undefined;
  if (typeof token !== 'string') throw invalid('idempotency_token must be a string');
  if (token.length > 64) throw invalid(`Idempotency token length must be less than or equal to 64 characters (got ${token.length}).`);
  return token;
}

function queueEnabled(queue: unknown): boolean | undefined {
  if (queue === undefined || queue === null) return undefined;
  if (typeof queue !== 'object' || typeof (queue as { enabled?: unknown }).enabled !== 'boolean')
    throw invalid('queue must be {"enabled": true|false}');
  return (queue as { enabled: boolean }).enabled;
}

/**
 * Task-level (legacy) parameters. Databricks does not let them mix with job parameters: a job that defines
 * job-level `parameters` rejects them. Without job parameters, notebook_params override the notebook tasks'
 * base_parameters; the other kinds belong to task types the emulator does not run, so they are refused by name.
 */
function legacyParameters(job: BundleJob, body: Record<string, unknown>, jobParams: Record<string, string>): Record<string, string> {
  const given = LEGACY_PARAMS.filter((f) => body[f] !== undefined && body[f] !== null);
  if (given.length === 0) return {};
  if (job.settings.parameters.length > 0 || Object.keys(jobParams).length > 0) {
    throw invalid(
      `Job ${job.job_id} uses job parameters; task-level parameters (${given.join(', ')}) cannot be used with them. Pass job_parameters instead.`,
    );
  }
  if (body['notebook_params'] !== undefined && body['jar_params'] !== undefined)
    throw invalid('notebook_params cannot be specified in conjunction with jar_params.');
  const other = given.filter((f) => f !== 'notebook_params');
  if (other.length > 0) {
    throw invalid(`${other.join(', ')}: job ${job.job_id} has no task that takes them (the local emulator runs notebook tasks only).`);
  }
  return toParams(body['notebook_params'], 'notebook_params');
}

/** run-now `only`: `key` that task, `+key` with its upstream tasks, `key+` with its downstream tasks. */
export function selectTasks(job: BundleJob, only: string[]): Set<string> {
  const tasks = job.settings.tasks;
  const out = new Set<string>();
  const walk = (key: string, next: (k: string) => string[]): void => {
    for (const k of next(key)) {
      if (!out.has(k)) {
        out.add(k);
        walk(k, next);
      }
    }
  };
  const upstream = (k: string): string[] => tasks.find((t) => t.task_key === k)?.depends_on.map((d) => d.task_key) ?? [];
  const downstream = (k: string): string[] => tasks.filter((t) => t.depends_on.some((d) => d.task_key === k)).map((t) => t.task_key);
  for (const entry of only) {
    const m = /^(\+?)(.*?)(\+?)$/.exec(entry)!;
    const key = m[2]!;
    if (!tasks.some((t) => t.task_key === key)) throw invalid(`Task ${key} (in only) does not exist in job ${job.job_id}.`);
    out.add(key);
    if (m[1]) walk(key, upstream);
    if (m[3]) walk(key, downstream);
  }
  if (out.size === 0) throw invalid('only must name at least one task.');
  return out;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
