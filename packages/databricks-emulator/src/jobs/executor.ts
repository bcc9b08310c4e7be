import { join } from 'node:path';
import { OrbiterError } from 'orbiter/shared/errors';
import type { Logger } from 'orbiter/shared/logger';
import type { BlobSource } from '../blobSource';
import type { ClusterRegistry } from '../clusters/registry';
import type { EmulatorTask } from '../jobSettings';
import { localiseLakeUrl, localLakeRoot, materialiseInputs } from '../lake';
import type { NotebookRunner } from '../notebookRunner';
import type { JobStore } from './jobStore';
import { ACTIVE, TERMINAL, type RunRecord, type TaskRecord, type Termination } from './records';
import type { RunStore } from './runStore';
import { Slots } from './slots';

/** Databricks' generic webhook payload for job events. */
export interface JobNotification {
  event_type: 'jobs.on_start' | 'jobs.on_success' | 'jobs.on_failure';
  workspace_id: string;
  run: { run_id: string };
  job: { job_id: string; name: string };
}

export interface ExecutorOptions {
  runner: NotebookRunner;
  lakeRoot: string;
  workDir: string;
  blobSource?: BlobSource;
  now: () => number;
  logger: Logger;
  maxParallelTasks: number;
  notify?: (notification: JobNotification) => void;
  /** Job clusters: tasks naming one share its driver for the run. */
  clusters?: ClusterRegistry;
}

export interface RunEnd {
  life: string;
  result: string;
  message: string;
  termination: Termination;
}

/**
 * Executes runs: the state machine from PENDING to a terminal state, task order by depends_on, upstream failures,
 * cancellation, timeouts, the per-job concurrency queue, and the job's webhook notifications.
 */
export class RunExecutor {
  private readonly controllers = new Map<number, AbortController>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly slots: Slots;
  private closed = false;
  /** Told about every run that reaches a terminal state (the scheduler keeps continuous jobs going with it). */
  onFinish: ((run: RunRecord) => void) | undefined;

  constructor(
    private readonly jobs: JobStore,
    private readonly store: RunStore,
    private readonly options: ExecutorOptions,
  ) {
    this.slots = new Slots(options.maxParallelTasks);
  }

  newTask(def: EmulatorTask, now: number, attempt: number): TaskRecord {
    return {
      run_id: this.store.id(),
      task_key: def.task_key,
      depends_on: def.depends_on,
      ...(def.notebook_task ? { notebook_task: def.notebook_task } : {}),
      ...(def.libraries ? { libraries: def.libraries } : {}),
      ...(def.unsupported ? { unsupported: def.unsupported } : {}),
      ...(def.timeout_seconds !== undefined ? { timeout_seconds: def.timeout_seconds } : {}),
      ...(def.cluster ? { cluster: def.cluster } : {}),
      life_cycle_state: 'PENDING',
      state_message: '',
      start_time: now,
      attempt_number: attempt,
    };
  }

  activeCount(jobId: number): number {
    let n = 0;
    for (const r of this.store.runs.values()) if (r.job_id === jobId && ACTIVE.has(r.life_cycle_state)) n++;
    return n;
  }

  /** Starts executing the tasks `keys` of `run` in the background. */
  start(run: RunRecord, keys: Set<string>): void {
    run.life_cycle_state = 'PENDING';
    run.state_message = '';
    delete run.queue_reason;
    run.pending_task_keys = [...keys];
    const controller = new AbortController();
    this.controllers.set(run.run_id, controller);
    this.track(this.execute(run, keys, controller.signal));
  }

  /** Asynchronous, like Databricks: the run is TERMINATING (or still QUEUED/PENDING) when this returns. */
  cancel(run: RunRecord): void {
    if (TERMINAL.has(run.life_cycle_state) || run.cancel_requested) return;
    run.cancel_requested = true;
    if (run.life_cycle_state === 'RUNNING') {
      run.life_cycle_state = 'TERMINATING';
      run.state_message = 'Run cancellation requested.';
      this.controllers.get(run.run_id)?.abort(new Error('cancelled'));
    } else if (run.life_cycle_state === 'QUEUED') {
      this.track(
        (async () => {
          await new Promise((r) => setImmediate(r));
          if (run.life_cycle_state === 'QUEUED') this.finishCancelled(run);
        })(),
      );
    }
    // PENDING: the execution loop sees cancel_requested before its first task.
    this.store.save();
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
    this.store.save();
  }

  /** Ends runs that were active when the emulator stopped, then starts queued ones. */
  recover(runs: RunRecord[]): void {
    const message = 'The local Databricks emulator restarted while the run was active.';
    for (const run of runs) {
      if (!ACTIVE.has(run.life_cycle_state)) continue;
      for (const t of run.tasks) if (!TERMINAL.has(t.life_cycle_state)) this.endTask(t, 'INTERNAL_ERROR', 'FAILED', message);
      this.finish(run, {
        life: 'INTERNAL_ERROR',
        result: 'FAILED',
        message,
        termination: { code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR', message },
      });
    }
    for (const jobId of new Set(runs.map((r) => r.job_id))) this.pump(jobId);
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.options.logger.error('emulator execution failed', { err: String(err) }))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  private async execute(run: RunRecord, keys: Set<string>, signal: AbortSignal): Promise<void> {
    // Let run-now return PENDING before anything runs, as the service does.
    await new Promise((r) => setImmediate(r));
    try {
      if (run.cancel_requested || signal.aborted) return this.finishCancelled(run);
      run.life_cycle_state = 'RUNNING';
      run.running_start ??= this.options.now();
      this.store.save();
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

      for (const task of topological(run.tasks)) {
        if (!keys.has(task.task_key)) continue;
        const upstream = task.depends_on.map((d) => run.tasks.find((t) => t.task_key === d.task_key));
        if (run.cancel_requested || signal.aborted) {
          this.endTask(task, 'TERMINATED', 'CANCELED', 'Run was cancelled.');
          continue;
        }
        // Upstream tasks left out of the run (run-now `only`) do not block it.
        const blocked = upstream.find((t) => t !== undefined && t.result_state !== 'SUCCESS');
        if (blocked) {
          const cancelled = blocked.result_state === 'CANCELED' || blocked.result_state === 'UPSTREAM_CANCELED';
          this.endTask(task, 'SKIPPED', cancelled ? 'UPSTREAM_CANCELED' : 'UPSTREAM_FAILED', `Upstream task ${blocked.task_key} did not succeed.`);
          continue;
        }
        await this.runTask(run, task, signal);
      }
      this.finalise(run, signal);
    } finally {
      this.options.clusters?.releaseRun(run.run_id);
      this.controllers.delete(run.run_id);
      this.store.save();
      this.pump(run.job_id);
    }
  }

  private async runTask(run: RunRecord, task: TaskRecord, runSignal: AbortSignal): Promise<void> {
    task.life_cycle_state = 'RUNNING';
    task.running_start = this.options.now();
    this.store.save();
    if (task.unsupported || !task.notebook_task) {
      this.endTask(task, 'TERMINATED', 'FAILED', task.unsupported ?? 'Task has no notebook_task.');
      task.output = { result_state: 'FAILED', notebook_output: null, error: task.state_message, error_trace: null };
      task.termination = { code: 'INVALID_RUN_CONFIGURATION', type: 'CLIENT_ERROR', message: task.state_message };
      return;
    }
    const timeoutS = task.timeout_seconds ?? this.jobs.find(run.job_id)?.settings.timeout_seconds;
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
    let clusterId: string | undefined;
    try {
      holding = await this.slots.acquire(taskCtl.signal);
      if (!holding) throw new Error('cancelled while waiting for a task slot');
      const cluster = task.cluster && this.options.clusters ? this.options.clusters.assign(run, task.cluster) : undefined;
      clusterId = cluster?.cluster_id;
      if (cluster) {
        task.cluster_instance = {
          cluster_id: cluster.cluster_id,
          ...(cluster.spark_context_id ? { spark_context_id: cluster.spark_context_id } : {}),
        };
        this.store.save();
      }
      const { cluster_instance, setup_ms, ...result } = await this.options.runner.run({
        notebookPath: task.notebook_task.notebook_path,
        libraries: task.libraries ?? [],
        parameters: this.taskParameters(run, task),
        runId: task.run_id,
        taskKey: task.task_key,
        workDir: join(this.options.workDir, 'runs', String(run.run_id)),
        signal: taskCtl.signal,
        ...(cluster ? { cluster: { clusterId: cluster.cluster_id, cores: cluster.cores } } : {}),
      });
      if (cluster_instance) {
        task.cluster_instance = cluster_instance;
        this.options.clusters?.running(cluster_instance.cluster_id, cluster_instance.spark_context_id);
      }
      if (setup_ms !== undefined) task.setup_ms = setup_ms;
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
      if (clusterId !== undefined) this.options.clusters?.taskDone(clusterId);
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
    const params: Record<string, string> = { ...task.notebook_task?.base_parameters, ...run.notebook_params, ...run.job_parameters };
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

  /** Moves a run to its terminal state, closes its current repair attempt and sends the job's notification. */
  finish(run: RunRecord, end: RunEnd): void {
    const now = this.options.now();
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
    this.store.save();
    this.options.logger.info('run finished', { runId: run.run_id, life: end.life, result: end.result });
    const settings = this.jobs.find(run.job_id)?.settings.notification_settings;
    const muted =
      (end.result === 'CANCELED' && settings?.no_alert_for_canceled_runs) || (end.life === 'SKIPPED' && settings?.no_alert_for_skipped_runs);
    if (!muted) this.emit(run, end.result === 'SUCCESS' ? 'on_success' : 'on_failure');
    if (!this.closed) this.onFinish?.(run);
  }

  private emit(run: RunRecord, event: 'on_start' | 'on_success' | 'on_failure'): void {
    const job = this.jobs.find(run.job_id);
    if (!this.options.notify || !job || !job.settings.webhook_events.includes(event)) return;
    try {
      this.options.notify({
        event_type: `jobs.${event}`,
        workspace_id: '0',
        run: { run_id: String(run.run_id) },
        job: { job_id: String(run.job_id), name: run.job_name },
      });
    } catch (err) {
      this.options.logger.warn('job notification failed', { runId: run.run_id, event, err: String(err) });
    }
  }

  private endTask(task: TaskRecord, life: string, result: string, message: string): void {
    task.life_cycle_state = life;
    task.result_state = result;
    task.state_message = message;
    task.end_time = this.options.now();
  }

  /** Starts queued runs of a job while it has free slots (oldest first). */
  private pump(jobId: number): void {
    if (this.closed) return;
    const job = this.jobs.find(jobId);
    if (!job) return;
    const queued = [...this.store.runs.values()]
      .filter((r) => r.job_id === jobId && r.life_cycle_state === 'QUEUED' && !r.cancel_requested)
      .sort((a, b) => a.run_id - b.run_id);
    for (const run of queued) {
      if (this.activeCount(jobId) >= job.settings.max_concurrent_runs) break;
      this.start(run, new Set(run.tasks.map((t) => t.task_key)));
    }
  }
}

/** Tasks ordered so each comes after the tasks it depends on. */
function topological(tasks: TaskRecord[]): TaskRecord[] {
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
