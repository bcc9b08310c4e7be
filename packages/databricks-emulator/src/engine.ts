import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { OrbiterError } from 'orbiter/shared/errors';
import { silentLogger, type Logger } from 'orbiter/shared/logger';
import type { BlobSource } from './blobSource';
import type { BundleJob, EmulatorTask } from './bundle';
import { localiseLakeUrl, localLakeRoot, materialiseInputs } from './lake';
import type { NotebookRunner, NotebookRunResult } from './notebookRunner';

/** A Jobs API error as Databricks sends it: HTTP status + {"error_code", "message"}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const invalid = (message: string): ApiError => new ApiError(400, 'INVALID_PARAMETER_VALUE', message);

interface Termination {
  code: string;
  type: string;
  message: string;
}

interface TaskRecord {
  run_id: number;
  task_key: string;
  depends_on: { task_key: string }[];
  notebook_task?: { notebook_path: string; base_parameters: Record<string, string>; source?: string };
  unsupported?: string;
  timeout_seconds?: number;
  life_cycle_state: string;
  result_state?: string;
  state_message: string;
  termination?: Termination;
  start_time: number;
  running_start?: number;
  end_time?: number;
  attempt_number: number;
  output?: NotebookRunResult;
}

interface RepairRecord {
  type: 'ORIGINAL' | 'REPAIR';
  id?: number;
  start_time: number;
  end_time?: number;
  life_cycle_state?: string;
  result_state?: string;
  state_message?: string;
  termination?: Termination;
  task_run_ids: number[];
}

interface RunRecord {
  run_id: number;
  job_id: number;
  job_name: string;
  creator_user_name: string;
  idempotency_token?: string;
  job_parameters: Record<string, string>;
  parameter_defaults: { name: string; default: string }[];
  queue_enabled: boolean;
  life_cycle_state: string;
  result_state?: string;
  state_message: string;
  queue_reason?: string;
  termination?: Termination;
  user_cancelled_or_timedout: boolean;
  cancel_requested: boolean;
  created_time: number;
  start_time: number;
  running_start?: number;
  end_time?: number;
  tasks: TaskRecord[];
  repairs: RepairRecord[];
  /** Keys of the tasks the current (or last) execution runs. */
  pending_task_keys?: string[];
}

interface PersistedState {
  version: 1;
  nextId: number;
  runs: RunRecord[];
}

export interface JobsEngineOptions {
  jobs: BundleJob[];
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

/** Databricks' generic webhook payload for job events. */
export interface JobNotification {
  event_type: 'jobs.on_start' | 'jobs.on_success' | 'jobs.on_failure';
  workspace_id: string;
  run: { run_id: string };
  job: { job_id: string; name: string };
}

/** A FIFO semaphore whose waits can be abandoned through an AbortSignal. */
class Slots {
  private used = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(signal: AbortSignal): Promise<boolean> {
    if (this.used < this.limit) {
      this.used++;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.used++;
        resolve(true);
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      };
      this.waiters.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    this.used--;
    const next = this.waiters.shift();
    if (next) next();
  }
}

const ACTIVE = new Set(['PENDING', 'RUNNING', 'TERMINATING']);
const TERMINAL = new Set(['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR']);
const OUTPUT_CAP = 5 * 1024 * 1024;

function toInt(value: unknown, field: string, required: true): number;
function toInt(value: unknown, field: string, required: false): number | undefined;
function toInt(value: unknown, field: string, required: boolean): number | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalid(`Missing required field: ${field}`);
    return undefined;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`Invalid value for ${field}: ${JSON.stringify(value)}`);
  return n;
}

function toBool(value: unknown, field: string): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(`Invalid value for ${field}: ${JSON.stringify(value)}`);
}

function toParams(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${field} must be an object of string values`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw invalid(`${field}.${k} must be a string`);
  }
  return out;
}

function pageWindow(q: Record<string, unknown>, defaultLimit: number, maxLimit: number): { offset: number; limit: number } {
  const limit = toInt(q['limit'], 'limit', false) ?? defaultLimit;
  if (limit < 0 || limit > maxLimit) throw invalid(`limit must be between 0 and ${maxLimit} (got ${limit})`);
  let offset = toInt(q['offset'], 'offset', false) ?? 0;
  if (typeof q['page_token'] === 'string' && q['page_token'] !== '') {
    const decoded = Buffer.from(q['page_token'], 'base64url').toString('utf8');
    if (!/^\d+$/.test(decoded)) throw invalid('Invalid page_token');
    offset = Number(decoded);
  }
  if (offset < 0) throw invalid('offset must be >= 0');
  return { offset, limit: limit === 0 ? defaultLimit : limit };
}

const pageToken = (offset: number): string => Buffer.from(String(offset)).toString('base64url');

/** Jobs API 2.2 semantics over bundle-defined jobs: run state machine, queueing, idempotency, repair, cancel. */
export class JobsEngine {
  private readonly jobs = new Map<number, BundleJob>();
  private readonly runs = new Map<number, RunRecord>();
  private readonly taskOwner = new Map<number, number>();
  private readonly tokens = new Map<string, number>();
  private readonly controllers = new Map<number, AbortController>();
  private readonly inflight = new Set<Promise<void>>();
  private nextId = 1001;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly statePath: string | undefined;
  private closed = false;
  private readonly slots: Slots;

  constructor(private readonly options: JobsEngineOptions) {
    for (const job of options.jobs) this.jobs.set(job.job_id, job);
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.slots = new Slots(options.maxParallelTasks ?? Number.POSITIVE_INFINITY);
    mkdirSync(options.workDir, { recursive: true });
    mkdirSync(options.lakeRoot, { recursive: true });
    this.statePath = options.persist ? join(options.workDir, 'databricks-emulator-state.json') : undefined;
    this.load();
  }

  // ---- jobs ---------------------------------------------------------------------------------------------

  listJobs(q: Record<string, unknown>): unknown {
    const { offset, limit } = pageWindow(q, 20, 100);
    const name = typeof q['name'] === 'string' ? q['name'].toLowerCase() : undefined;
    const expand = toBool(q['expand_tasks'], 'expand_tasks');
    const all = [...this.jobs.values()]
      .filter((j) => name === undefined || j.settings.name.toLowerCase() === name)
      .sort((a, b) => a.settings.name.localeCompare(b.settings.name));
    const page = all.slice(offset, offset + limit);
    const hasMore = offset + limit < all.length;
    return {
      ...(page.length > 0 ? { jobs: page.map((j) => this.apiJob(j, expand)) } : {}),
      has_more: hasMore,
      ...(hasMore ? { next_page_token: pageToken(offset + limit) } : {}),
      ...(offset > 0 ? { prev_page_token: pageToken(Math.max(0, offset - limit)) } : {}),
    };
  }

  getJob(q: Record<string, unknown>): unknown {
    return this.apiJob(this.job(toInt(q['job_id'], 'job_id', true)), true);
  }

  // ---- runs ---------------------------------------------------------------------------------------------

  runNow(body: Record<string, unknown>): { run_id: number; number_in_job: number } {
    const jobId = toInt(body['job_id'], 'job_id', true);
    const token = body['idempotency_token'];
    if (token !== undefined && token !== null) {
      if (typeof token !== 'string') throw invalid('idempotency_token must be a string');
      if (token.length > 64) throw invalid(`Idempotency token length must be less than or equal to 64 characters (got ${token.length}).`);
    }
    const job = this.job(jobId);
    if (typeof token === 'string' && token !== '') {
      const existing = this.tokens.get(token);
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

    const now = this.now();
    const busy = this.activeCount(jobId);
    const runId = this.id();
    const merged: Record<string, string> = {};
    for (const p of job.settings.parameters) merged[p.name] = p.default;
    Object.assign(merged, params);
    const run: RunRecord = {
      run_id: runId,
      job_id: jobId,
      job_name: job.settings.name,
      creator_user_name: this.options.userName ?? 'local-emulator@orbiter.local',
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
      tasks: job.settings.tasks.map((t) => this.newTask(t, now, 0)),
      repairs: [],
    };
    run.repairs.push({ type: 'ORIGINAL', start_time: now, task_run_ids: run.tasks.map((t) => t.run_id) });
    this.runs.set(runId, run);
    for (const t of run.tasks) this.taskOwner.set(t.run_id, runId);
    if (run.idempotency_token) this.tokens.set(run.idempotency_token, runId);

    const max = job.settings.max_concurrent_runs;
    if (busy >= max) {
      if (queueEnabled) {
        run.life_cycle_state = 'QUEUED';
        run.queue_reason = `Queued due to reaching maximum concurrent runs of ${max}.`;
        run.state_message = run.queue_reason;
      } else {
        this.finish(run, {
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
      this.start(run, new Set(run.tasks.map((t) => t.task_key)));
    }
    this.save();
    this.logger.info('run-now', { jobId, runId, state: run.life_cycle_state });
    return { run_id: runId, number_in_job: runId };
  }

  getRun(q: Record<string, unknown>): unknown {
    const id = toInt(q['run_id'], 'run_id', true);
    const run = this.runs.get(id);
    if (run) return this.apiRun(run, true);
    const owner = this.taskOwner.get(id);
    if (owner !== undefined) {
      const parent = this.runs.get(owner)!;
      return this.apiTaskAsRun(parent, parent.tasks.find((t) => t.run_id === id) ?? this.historicTask(parent, id));
    }
    throw invalid(`Run ${id} does not exist.`);
  }

  listRuns(q: Record<string, unknown>): unknown {
    const jobId = toInt(q['job_id'], 'job_id', false);
    if (jobId !== undefined) this.job(jobId);
    const activeOnly = toBool(q['active_only'], 'active_only');
    const completedOnly = toBool(q['completed_only'], 'completed_only');
    if (activeOnly && completedOnly) throw invalid('active_only and completed_only cannot both be true');
    const { offset, limit } = pageWindow(q, 20, 25);
    const from = toInt(q['start_time_from'], 'start_time_from', false);
    const to = toInt(q['start_time_to'], 'start_time_to', false);
    const expand = toBool(q['expand_tasks'], 'expand_tasks');
    const all = [...this.runs.values()]
      .filter((r) => jobId === undefined || r.job_id === jobId)
      .filter((r) => !activeOnly || !TERMINAL.has(r.life_cycle_state))
      .filter((r) => !completedOnly || TERMINAL.has(r.life_cycle_state))
      .filter((r) => (from === undefined || r.start_time >= from) && (to === undefined || r.start_time <= to))
      .sort((a, b) => b.run_id - a.run_id);
    const page = all.slice(offset, offset + limit);
    const hasMore = offset + limit < all.length;
    return {
      ...(page.length > 0 ? { runs: page.map((r) => this.apiRun(r, expand)) } : {}),
      has_more: hasMore,
      ...(hasMore ? { next_page_token: pageToken(offset + limit) } : {}),
      ...(offset > 0 ? { prev_page_token: pageToken(Math.max(0, offset - limit)) } : {}),
    };
  }

  /** Asynchronous, like Databricks: the run is TERMINATING (or still QUEUED/PENDING) when this returns. */
  cancelRun(body: Record<string, unknown>): Record<string, never> {
    const id = toInt(body['run_id'], 'run_id', true);
    const run = this.runs.get(id);
    if (!run) throw invalid(`Run ${id} does not exist.`);
    if (TERMINAL.has(run.life_cycle_state) || run.cancel_requested) return {};
    run.cancel_requested = true;
    if (run.life_cycle_state === 'RUNNING') {
      run.life_cycle_state = 'TERMINATING';
      run.state_message = 'Run cancellation requested.';
      this.controllers.get(id)?.abort(new Error('cancelled'));
    } else if (run.life_cycle_state === 'QUEUED') {
      this.track(
        (async () => {
          await new Promise((r) => setImmediate(r));
          if (run.life_cycle_state === 'QUEUED') this.finishCancelled(run);
        })(),
      );
    }
    // PENDING: the execution loop sees cancel_requested before its first task.
    this.save();
    return {};
  }

  getRunOutput(q: Record<string, unknown>): unknown {
    const id = toInt(q['run_id'], 'run_id', true);
    let parent = this.runs.get(id);
    let task: TaskRecord | undefined;
    if (parent) {
      if (parent.tasks.length !== 1) {
        throw invalid(
          'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.',
        );
      }
      task = parent.tasks[0]!;
    } else {
      const owner = this.taskOwner.get(id);
      if (owner === undefined) throw invalid(`Run ${id} does not exist.`);
      parent = this.runs.get(owner)!;
      task = parent.tasks.find((t) => t.run_id === id) ?? this.historicTask(parent, id);
    }
    const out = task.output;
    const result = out?.notebook_output ?? null;
    return {
      metadata: this.apiTaskAsRun(parent, task),
      ...(result !== null ? { notebook_output: { result: result.slice(0, OUTPUT_CAP), truncated: result.length > OUTPUT_CAP } } : {}),
      ...(out?.error ? { error: out.error } : {}),
      ...(out?.error_trace ? { error_trace: out.error_trace } : {}),
    };
  }

  repairRun(body: Record<string, unknown>): { repair_id: number } {
    const id = toInt(body['run_id'], 'run_id', true);
    const run = this.runs.get(id);
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

    const now = this.now();
    const repairId = this.id();
    run.tasks = run.tasks.map((t) => {
      if (!keys.has(t.task_key)) return t;
      const job = this.jobs.get(run.job_id);
      const def = job?.settings.tasks.find((d) => d.task_key === t.task_key);
      const fresh = def ? this.newTask(def, now, t.attempt_number + 1) : { ...t, run_id: this.id(), attempt_number: t.attempt_number + 1 };
      this.taskOwner.set(fresh.run_id, run.run_id);
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
    this.start(run, keys);
    this.save();
    return { repair_id: repairId };
  }

  /** Resolves once no run is executing (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Cancels running work and waits for it; state is saved. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.controllers.values()) c.abort(new Error('emulator closing'));
    await this.whenIdle();
    this.save();
  }

  // ---- execution ----------------------------------------------------------------------------------------

  private start(run: RunRecord, keys: Set<string>): void {
    run.life_cycle_state = 'PENDING';
    run.state_message = '';
    delete run.queue_reason;
    run.pending_task_keys = [...keys];
    const controller = new AbortController();
    this.controllers.set(run.run_id, controller);
    this.track(this.execute(run, keys, controller.signal));
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.logger.error('emulator execution failed', { err: String(err) }))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  private async execute(run: RunRecord, keys: Set<string>, signal: AbortSignal): Promise<void> {
    // Let run-now return PENDING before anything runs, as the service does.
    await new Promise((r) => setImmediate(r));
    try {
      if (run.cancel_requested || signal.aborted) return this.finishCancelled(run);
      run.life_cycle_state = 'RUNNING';
      run.running_start ??= this.now();
      this.save();
      this.emit(run, 'on_start');

      const lakeRoot = this.options.lakeRoot;
      if (this.options.blobSource) {
        try {
          await materialiseInputs(run.job_parameters['input_manifest'], run.job_parameters['source'], lakeRoot, this.options.blobSource, signal);
        } catch (err) {
          if (run.cancel_requested || signal.aborted) return this.finishCancelled(run);
          return this.failRunBeforeTasks(run, keys, err);
        }
      }

      for (const task of this.topological(run.tasks)) {
        if (!keys.has(task.task_key)) continue;
        const upstream = task.depends_on.map((d) => run.tasks.find((t) => t.task_key === d.task_key));
        if (run.cancel_requested || signal.aborted) {
          this.endTask(task, 'TERMINATED', 'CANCELED', 'Run was cancelled.');
          continue;
        }
        const blocked = upstream.find((t) => t?.result_state !== 'SUCCESS');
        if (blocked) {
          const cancelled = blocked.result_state === 'CANCELED' || blocked.result_state === 'UPSTREAM_CANCELED';
          this.endTask(task, 'SKIPPED', cancelled ? 'UPSTREAM_CANCELED' : 'UPSTREAM_FAILED', `Upstream task ${blocked.task_key} did not succeed.`);
          continue;
        }
        await this.runTask(run, task, signal);
      }
      this.finalise(run, signal);
    } finally {
      this.controllers.delete(run.run_id);
      this.save();
      this.pump(run.job_id);
    }
  }

  private async runTask(run: RunRecord, task: TaskRecord, runSignal: AbortSignal): Promise<void> {
    task.life_cycle_state = 'RUNNING';
    task.running_start = this.now();
    this.save();
    if (task.unsupported || !task.notebook_task) {
      this.endTask(task, 'TERMINATED', 'FAILED', task.unsupported ?? 'Task has no notebook_task.');
      task.output = { result_state: 'FAILED', notebook_output: null, error: task.state_message, error_trace: null };
      task.termination = { code: 'INVALID_RUN_CONFIGURATION', type: 'CLIENT_ERROR', message: task.state_message };
      return;
    }
    const timeoutS = task.timeout_seconds ?? this.jobs.get(run.job_id)?.settings.timeout_seconds;
    const taskCtl = new AbortController();
    const onRunAbort = (): void => taskCtl.abort(runSignal.reason);
    runSignal.addEventListener('abort', onRunAbort, { once: true });
    let timedOut = false;
    const timer =
      timeoutS && timeoutS > 0
        ? setTimeout(() => {
            timedOut = true;
            taskCtl.abort(new Error('timeout'));
          }, timeoutS * 1000)
        : undefined;
    let holding = false;
    try {
      holding = await this.slots.acquire(taskCtl.signal);
      if (!holding) throw new Error('cancelled while waiting for a task slot');
      const result = await this.options.runner.run({
        notebookPath: task.notebook_task.notebook_path,
        parameters: this.taskParameters(run, task),
        runId: task.run_id,
        taskKey: task.task_key,
        workDir: join(this.options.workDir, 'runs', String(run.run_id)),
        signal: taskCtl.signal,
      });
      if (timedOut) {
        this.endTask(task, 'TERMINATED', 'TIMEDOUT', `Task ${task.task_key} timed out after ${timeoutS} seconds.`);
        task.termination = { code: 'TIMEOUT', type: 'CLIENT_ERROR', message: task.state_message };
      } else if (runSignal.aborted || run.cancel_requested) {
        this.endTask(task, 'TERMINATED', 'CANCELED', 'Run was cancelled.');
      } else {
        task.output = result;
        if (result.result_state === 'SUCCESS') this.endTask(task, 'TERMINATED', 'SUCCESS', '');
        else this.endTask(task, 'TERMINATED', 'FAILED', result.error ?? 'Notebook failed.');
      }
    } catch (err) {
      if (runSignal.aborted || run.cancel_requested) this.endTask(task, 'TERMINATED', 'CANCELED', 'Run was cancelled.');
      else {
        const message = `The notebook runner failed: ${(err as Error).message}`;
        this.endTask(task, 'INTERNAL_ERROR', 'FAILED', message);
        task.output = { result_state: 'FAILED', notebook_output: null, error: message, error_trace: (err as Error).stack ?? null };
        task.termination = { code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR', message };
      }
    } finally {
      if (holding) this.slots.release();
      if (timer) clearTimeout(timer);
      runSignal.removeEventListener('abort', onRunAbort);
    }
  }

  private taskParameters(run: RunRecord, task: TaskRecord): Record<string, string> {
    const refs: Record<string, string> = {
      'job.id': String(run.job_id),
      'job.name': run.job_name,
      'job.run_id': String(run.run_id),
      'task.run_id': String(task.run_id),
      'task.name': task.task_key,
      'job.start_time.iso_datetime': new Date(run.start_time).toISOString(),
    };
    const resolveRefs = (v: string): string =>
      v.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (m, ref: string) => {
        if (ref.startsWith('job.parameters.')) return run.job_parameters[ref.slice('job.parameters.'.length)] ?? m;
        return refs[ref] ?? m;
      });
    // Job parameters win over task parameters (Databricks passes them to every notebook task as widgets).
    const params: Record<string, string> = { ...task.notebook_task?.base_parameters, ...run.job_parameters };
    for (const [k, v] of Object.entries(params)) {
      const value = resolveRefs(v);
      params[k] = k === 'lake_root' ? localLakeRoot(value, this.options.lakeRoot) : localiseLakeUrl(value, this.options.lakeRoot);
    }
    return params;
  }

  private failRunBeforeTasks(run: RunRecord, keys: Set<string>, err: unknown): void {
    const code = err instanceof OrbiterError ? err.code : undefined;
    const clientSide =
      code === 'NotFound' ||
      code === 'ManifestInvalid' ||
      err instanceof SyntaxError ||
      (err as Error)?.name === 'ZodError' ||
      err instanceof RangeError;
    const message = `Could not prepare the run's inputs: ${(err as Error).message}`;
    for (const t of run.tasks) if (keys.has(t.task_key)) this.endTask(t, 'SKIPPED', 'UPSTREAM_FAILED', message);
    this.finish(run, {
      life: clientSide ? 'TERMINATED' : 'INTERNAL_ERROR',
      result: 'FAILED',
      message,
      termination: clientSide
        ? { code: code === 'NotFound' ? 'RESOURCE_NOT_FOUND' : 'INVALID_RUN_CONFIGURATION', type: 'CLIENT_ERROR', message }
        : { code: 'STORAGE_ACCESS_ERROR', type: 'CLOUD_FAILURE', message },
    });
  }

  private finalise(run: RunRecord, signal: AbortSignal): void {
    if (run.cancel_requested || (signal.aborted && !this.closed)) return this.finishCancelled(run);
    if (signal.aborted && this.closed) {
      const message = 'The local Databricks emulator shut down during the run.';
      return this.finish(run, {
        life: 'INTERNAL_ERROR',
        result: 'FAILED',
        message,
        termination: { code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR', message },
      });
    }
    const broken = run.tasks.find((t) => t.life_cycle_state === 'INTERNAL_ERROR');
    if (broken) {
      const message = `Task ${broken.task_key} failed: ${broken.state_message}`;
      return this.finish(run, {
        life: 'INTERNAL_ERROR',
        result: 'FAILED',
        message,
        termination: { code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR', message },
      });
    }
    const failed = run.tasks.find((t) => t.result_state === 'FAILED' || t.result_state === 'TIMEDOUT');
    if (failed) {
      const message = `Task ${failed.task_key} failed with message: ${failed.state_message}. This caused all downstream tasks to get skipped.`;
      const termination = failed.termination ?? { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message };
      return this.finish(run, {
        life: 'TERMINATED',
        result: failed.result_state === 'TIMEDOUT' ? 'TIMEDOUT' : 'FAILED',
        message,
        termination: { ...termination, message },
      });
    }
    // SUCCESS only for work that actually ran.
    const ok = run.tasks.length > 0 && run.tasks.every((t) => t.result_state === 'SUCCESS');
    if (ok)
      return this.finish(run, { life: 'TERMINATED', result: 'SUCCESS', message: '', termination: { code: 'SUCCESS', type: 'SUCCESS', message: '' } });
    const message = 'No task ran successfully.';
    return this.finish(run, {
      life: 'TERMINATED',
      result: 'FAILED',
      message,
      termination: { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message },
    });
  }

  private finishCancelled(run: RunRecord): void {
    for (const t of run.tasks) if (!TERMINAL.has(t.life_cycle_state)) this.endTask(t, 'TERMINATED', 'CANCELED', 'Run was cancelled.');
    run.user_cancelled_or_timedout = true;
    this.finish(run, {
      life: 'TERMINATED',
      result: 'CANCELED',
      message: 'Run cancelled.',
      termination: { code: 'USER_CANCELED', type: 'SUCCESS', message: 'The run was cancelled by a user.' },
    });
  }

  private finish(run: RunRecord, end: { life: string; result: string; message: string; termination: Termination }): void {
    const now = this.now();
    run.life_cycle_state = end.life;
    run.result_state = end.result;
    run.state_message = end.message;
    run.termination = end.termination;
    run.end_time = now;
    delete run.queue_reason;
    const current = run.repairs[run.repairs.length - 1];
    if (current) {
      current.end_time = now;
      current.life_cycle_state = end.life;
      current.result_state = end.result;
      current.state_message = end.message;
      current.termination = end.termination;
    }
    this.save();
    this.logger.info('run finished', { runId: run.run_id, life: end.life, result: end.result });
    const settings = this.jobs.get(run.job_id)?.settings.notification_settings;
    const muted =
      (end.result === 'CANCELED' && settings?.no_alert_for_canceled_runs) || (end.life === 'SKIPPED' && settings?.no_alert_for_skipped_runs);
    if (!muted) this.emit(run, end.result === 'SUCCESS' ? 'on_success' : 'on_failure');
  }

  private emit(run: RunRecord, event: 'on_start' | 'on_success' | 'on_failure'): void {
    const job = this.jobs.get(run.job_id);
    if (!this.options.notify || !job || !job.settings.webhook_events.includes(event)) return;
    try {
      this.options.notify({
        event_type: `jobs.${event}`,
        workspace_id: '0',
        run: { run_id: String(run.run_id) },
        job: { job_id: String(run.job_id), name: run.job_name },
      });
    } catch (err) {
      this.logger.warn('job notification failed', { runId: run.run_id, event, err: String(err) });
    }
  }

  private endTask(task: TaskRecord, life: string, result: string, message: string): void {
    task.life_cycle_state = life;
    task.result_state = result;
    task.state_message = message;
    task.end_time = this.now();
  }

  /** Starts queued runs of a job while it has free slots (oldest first). */
  private pump(jobId: number): void {
    if (this.closed) return;
    const job = this.jobs.get(jobId);
    if (!job) return;
    const queued = [...this.runs.values()]
      .filter((r) => r.job_id === jobId && r.life_cycle_state === 'QUEUED' && !r.cancel_requested)
      .sort((a, b) => a.run_id - b.run_id);
    for (const run of queued) {
      if (this.activeCount(jobId) >= job.settings.max_concurrent_runs) break;
      this.start(run, new Set(run.tasks.map((t) => t.task_key)));
    }
  }

  private activeCount(jobId: number): number {
    let n = 0;
    for (const r of this.runs.values()) if (r.job_id === jobId && ACTIVE.has(r.life_cycle_state)) n++;
    return n;
  }

  private topological(tasks: TaskRecord[]): TaskRecord[] {
    const byKey = new Map(tasks.map((t) => [t.task_key, t]));
    const out: TaskRecord[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (t: TaskRecord): void => {
      const s = state.get(t.task_key);
      if (s === 'done') return;
      if (s === 'visiting') throw new Error(`task dependency cycle at ${t.task_key}`);
      state.set(t.task_key, 'visiting');
      for (const d of t.depends_on) {
        const dep = byKey.get(d.task_key);
        if (dep) visit(dep);
      }
      state.set(t.task_key, 'done');
      out.push(t);
    };
    tasks.forEach(visit);
    return out;
  }

  private newTask(def: EmulatorTask, now: number, attempt: number): TaskRecord {
    return {
      run_id: this.id(),
      task_key: def.task_key,
      depends_on: def.depends_on,
      ...(def.notebook_task ? { notebook_task: def.notebook_task } : {}),
      ...(def.unsupported ? { unsupported: def.unsupported } : {}),
      ...(def.timeout_seconds !== undefined ? { timeout_seconds: def.timeout_seconds } : {}),
      life_cycle_state: 'PENDING',
      state_message: '',
      start_time: now,
      attempt_number: attempt,
    };
  }

  /** Task runs replaced by a repair are not kept (the emulator keeps only the latest attempt per task). */
  private historicTask(run: RunRecord, taskRunId: number): TaskRecord {
    throw invalid(`Run ${taskRunId} of run ${run.run_id} was superseded by a repair and its output is no longer available.`);
  }

  private job(jobId: number): BundleJob {
    const job = this.jobs.get(jobId);
    if (!job) throw invalid(`Job ${jobId} does not exist.`);
    return job;
  }

  private id(): number {
    return this.nextId++;
  }

  // ---- API shapes ---------------------------------------------------------------------------------------

  private runPageUrl(jobId: number, runId: number): string {
    return `${this.options.baseUrl()}/?o=0#job/${jobId}/run/${runId}`;
  }

  private apiJob(job: BundleJob, withTasks: boolean): unknown {
    const s = job.settings;
    return {
      job_id: job.job_id,
      creator_user_name: this.options.userName ?? 'local-emulator@orbiter.local',
      run_as_user_name: this.options.userName ?? 'local-emulator@orbiter.local',
      created_time: 0,
      settings: {
        name: s.name,
        ...(s.description !== undefined ? { description: s.description } : {}),
        tags: s.tags,
        format: 'MULTI_TASK',
        max_concurrent_runs: s.max_concurrent_runs,
        queue: s.queue,
        parameters: s.parameters,
        ...(s.timeout_seconds !== undefined ? { timeout_seconds: s.timeout_seconds } : {}),
        ...(withTasks
          ? {
              tasks: s.tasks.map((t) => ({
                task_key: t.task_key,
                ...(t.depends_on.length > 0 ? { depends_on: t.depends_on } : {}),
                ...(t.notebook_task ? { notebook_task: { ...t.notebook_task, source: 'WORKSPACE' } } : {}),
                ...(t.timeout_seconds !== undefined ? { timeout_seconds: t.timeout_seconds } : {}),
              })),
            }
          : {}),
      },
    };
  }

  private status(life: string, termination: Termination | undefined, queueReason: string | undefined): unknown {
    const terminal = TERMINAL.has(life);
    return {
      state: terminal ? 'TERMINATED' : life,
      ...(terminal && termination ? { termination_details: termination } : {}),
      ...(life === 'QUEUED' && queueReason ? { queue_details: { code: 'ACTIVE_RUNS_LIMIT_REACHED', message: queueReason } } : {}),
    };
  }

  private durations(start: number, runningStart: number | undefined, end: number | undefined): Record<string, number> {
    const stop = end ?? this.now();
    const exec = runningStart !== undefined ? Math.max(0, stop - runningStart) : 0;
    return { setup_duration: 0, execution_duration: exec, cleanup_duration: 0, run_duration: Math.max(0, stop - start) };
  }

  private apiTask(run: RunRecord, t: TaskRecord): Record<string, unknown> {
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
      ...this.durations(t.start_time, t.running_start, t.end_time),
      attempt_number: t.attempt_number,
      run_page_url: this.runPageUrl(run.job_id, t.run_id),
    };
  }

  private apiTaskAsRun(run: RunRecord, t: TaskRecord): unknown {
    return {
      job_id: run.job_id,
      run_id: t.run_id,
      number_in_job: t.run_id,
      creator_user_name: run.creator_user_name,
      run_name: t.task_key,
      run_type: 'JOB_RUN',
      trigger: 'ONE_TIME',
      ...this.apiTask(run, t),
    };
  }

  private apiRun(run: RunRecord, withTasks: boolean): unknown {
    return {
      job_id: run.job_id,
      run_id: run.run_id,
      number_in_job: run.run_id,
      original_attempt_run_id: run.run_id,
      creator_user_name: run.creator_user_name,
      run_name: run.job_name,
      run_type: 'JOB_RUN',
      trigger: 'ONE_TIME',
      format: 'MULTI_TASK',
      state: {
        life_cycle_state: run.life_cycle_state,
        ...(run.result_state ? { result_state: run.result_state } : {}),
        state_message: run.state_message,
        user_cancelled_or_timedout: run.user_cancelled_or_timedout,
        ...(run.queue_reason ? { queue_reason: run.queue_reason } : {}),
      },
      status: this.status(run.life_cycle_state, run.termination, run.queue_reason),
      ...(withTasks ? { tasks: run.tasks.map((t) => this.apiTask(run, t)) } : {}),
      job_parameters: run.parameter_defaults.map((p) => ({ name: p.name, default: p.default, value: run.job_parameters[p.name] ?? p.default })),
      start_time: run.start_time,
      end_time: run.end_time ?? 0,
      ...this.durations(run.start_time, run.running_start, run.end_time),
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

  // ---- persistence --------------------------------------------------------------------------------------

  private save(): void {
    if (!this.statePath) return;
    const state: PersistedState = { version: 1, nextId: this.nextId, runs: [...this.runs.values()] };
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.statePath);
  }

  private load(): void {
    if (!this.statePath || !existsSync(this.statePath)) return;
    const state = JSON.parse(readFileSync(this.statePath, 'utf8')) as PersistedState;
    this.nextId = Math.max(this.nextId, state.nextId);
    const message = 'The local Databricks emulator restarted while the run was active.';
    for (const run of state.runs) {
      this.runs.set(run.run_id, run);
      for (const t of run.tasks) this.taskOwner.set(t.run_id, run.run_id);
      if (run.idempotency_token) this.tokens.set(run.idempotency_token, run.run_id);
      if (ACTIVE.has(run.life_cycle_state)) {
        for (const t of run.tasks) if (!TERMINAL.has(t.life_cycle_state)) this.endTask(t, 'INTERNAL_ERROR', 'FAILED', message);
        this.finish(run, {
          life: 'INTERNAL_ERROR',
          result: 'FAILED',
          message,
          termination: { code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR', message },
        });
      }
    }
    for (const jobId of new Set(state.runs.map((r) => r.job_id))) this.pump(jobId);
  }
}

function taskTermination(t: TaskRecord): Termination {
  switch (t.result_state) {
    case 'SUCCESS':
      return { code: 'SUCCESS', type: 'SUCCESS', message: '' };
    case 'CANCELED':
    case 'UPSTREAM_CANCELED':
      return { code: 'USER_CANCELED', type: 'SUCCESS', message: t.state_message };
    case 'UPSTREAM_FAILED':
      return { code: 'SKIPPED', type: 'CLIENT_ERROR', message: t.state_message };
    default:
      return { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message: t.state_message };
  }
}
