import { mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PythonNotebookRunner, type NotebookRunner, type NotebookRunRequest, type NotebookRunResult } from '../notebookRunner';
import { DriverProcess, type TaskGateway } from './driverProcess';

const CANCELLED: NotebookRunResult = { result_state: 'FAILED', notebook_output: null, error: 'Run cancelled', error_trace: null };

export interface ClusterNotebookRunnerOptions {
  /** Repository root (cwd of the driver and the task processes). */
  repoRoot: string;
  /** Default <repoRoot>/.venv/bin/python */
  python?: string;
  /** Default <package>/runner/cluster_driver.py */
  script?: string;
  env?: Record<string, string | undefined>;
  /** Where the driver's log goes (<logDir>/driver-<n>.log). */
  logDir: string;
  /** Cores of the driver's local master (default: the machine's; clusters share them through FAIR pools). */
  cores?: number;
  /** Runs tasks that name no cluster (a Spark of their own per task). */
  perTask: NotebookRunner;
  killGraceMs?: number;
}

/**
 * Runs notebook tasks of the local clusters. One Spark driver JVM (runner/cluster_driver.py) serves every live
 * cluster — local clusters are logical, as Databricks' are to a notebook: each task runs in a Python process of its
 * own (runner/run_notebook.py) attached to the driver's JVM through a Py4J gateway server of its own (closed when the
 * task ends, which frees what the task left in the JVM), with its own SparkSession, job group and its cluster's
 * scheduler pool. The driver starts with the first cluster's first task and stops when the
 * last live cluster is released (warm clusters keep it up across runs); a driver that died or stopped answering is
 * replaced for the next task. Tasks without a cluster go to the per-task runner (a JVM of their own).
 */
export class ClusterNotebookRunner implements NotebookRunner {
  private driverStart: Promise<DriverProcess> | undefined;
  /** The started driver, while it is the current one. */
  private current: DriverProcess | undefined;
  private readonly liveClusters = new Set<string>();
  private readonly python: string;
  private readonly script: string;
  private readonly attached: PythonNotebookRunner;
  private starts = 0;

  constructor(private readonly options: ClusterNotebookRunnerOptions) {
    this.python = options.python ?? join(options.repoRoot, '.venv', 'bin', 'python');
    this.script = options.script ?? join(__dirname, '..', '..', 'runner', 'cluster_driver.py');
    this.attached = new PythonNotebookRunner({
      repoRoot: options.repoRoot,
      python: this.python,
      ...(options.env ? { env: options.env } : {}),
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    });
  }

  async run(req: NotebookRunRequest): Promise<NotebookRunResult> {
    const cluster = req.cluster;
    if (!cluster) return this.options.perTask.run(req);
    this.liveClusters.add(cluster.clusterId);
    const setupStart = Date.now();
    // The driver is shared: a cancelled task stops waiting for it, but does not abort its start for the others.
    const running = this.current?.alive ? this.current : undefined;
    const driver = running ?? (await untilAborted(this.driver(), req.signal));
    const setupMs = running ? 0 : Date.now() - setupStart;
    if (!driver) return { ...CANCELLED, setup_ms: setupMs };
    const instance = { cluster_id: cluster.clusterId, spark_context_id: driver.sparkContextId };
    const group = `orbiter-task-${req.runId}`;
    let gateway: TaskGateway | undefined;
    const opening = driver.openGateway();
    try {
      // A cancelled task stops waiting (the driver answers requests one at a time, after a health check in progress).
      gateway = await untilAborted(opening, req.signal);
    } catch (err) {
      // The driver died between tasks (or cannot serve one): the next task gets a new one.
      driver.kill();
      const why = `${(err as Error).message} (cluster ${cluster.clusterId}); the next task gets a new driver`;
      return { result_state: 'FAILED', notebook_output: null, error: why, error_trace: null, cluster_instance: instance, setup_ms: setupMs };
    }
    if (!gateway) {
      // Opened after the cancel: closed as soon as it is.
      void opening.then(
        (late) => late.close(),
        () => undefined,
      );
      return { ...CANCELLED, cluster_instance: instance, setup_ms: setupMs };
    }
    const result = await this.attached
      .run({
        ...req,
        env: {
          ...req.env,
          PYSPARK_GATEWAY_PORT: String(gateway.port),
          PYSPARK_GATEWAY_SECRET: gateway.secret,
          ORBITER_SPARK_ATTACH: group,
          ORBITER_SPARK_POOL: cluster.clusterId,
        },
      })
      // The notebook's process died without a result (os._exit, a signal): that fails the task, not the runner.
      .catch((err: Error): NotebookRunResult => ({ result_state: 'FAILED', notebook_output: null, error: err.message, error_trace: null }));
    gateway.close(); // the task's process has ended, whatever the outcome
    if (result.result_state === 'SUCCESS') return { ...result, cluster_instance: instance, setup_ms: setupMs };
    // A killed, crashed or failed task may leave Spark jobs running, or may have taken the JVM down with it.
    driver.cancel(group);
    if (!(await driver.ping())) {
      driver.kill();
      const why = `the Spark driver of cluster ${cluster.clusterId} ${driver.endReason ?? 'stopped answering'} during the task; the next task gets a new driver`;
      return { ...result, error: result.error ? `${result.error} (${why})` : why, cluster_instance: instance, setup_ms: setupMs };
    }
    return { ...result, cluster_instance: instance, setup_ms: setupMs };
  }

  /** The cluster was terminated: the driver stops once no live cluster needs it. */
  async releaseCluster(clusterId: string): Promise<void> {
    this.liveClusters.delete(clusterId);
    if (this.liveClusters.size > 0) return;
    await this.stopDriver();
  }

  /**
   * Starts the driver ahead of the first cluster task, as an instance pool's idle instance saves a cluster's VM
   * start: the first run's tasks then find the JVM up. A start that fails is left to that first task, which starts
   * the driver again and reports why it cannot. Resolves with the driver process's pid once it is up (undefined if
   * it could not start); asked again, it waits for the same start.
   */
  async prepare(): Promise<number | undefined> {
    try {
      return (await this.driver()).pid;
    } catch {
      return undefined;
    }
  }

  /** Stops the driver whatever clusters are live (shutdown; a prepared driver may never have served a cluster). */
  async close(): Promise<void> {
    this.liveClusters.clear();
    await this.stopDriver();
  }

  private async stopDriver(): Promise<void> {
    const pending = this.driverStart;
    if (!pending) return;
    this.driverStart = undefined;
    this.current = undefined;
    const driver = await pending.catch(() => undefined);
    await driver?.stop();
  }

  /** The running driver, started (once, however many tasks ask at the same time) when there is none. */
  private async driver(): Promise<DriverProcess> {
    const existing = this.driverStart;
    if (existing) {
      const d = await existing.catch(() => undefined);
      if (d?.alive) return d;
      void d?.stop(); // died or retired: make sure its process and JVM are gone
      if (this.driverStart === existing) {
        this.driverStart = undefined;
        this.current = undefined;
      }
      if (this.driverStart) return this.driver();
    }
    // The driver's log goes here: created once, where the driver starts, for tasks and prepare() alike.
    const starting = mkdir(this.options.logDir, { recursive: true }).then(() =>
      DriverProcess.start({
        python: this.python,
        script: this.script,
        cwd: this.options.repoRoot,
        env: { ...this.options.env },
        clusterId: [...this.liveClusters].join(',') || '(ready, no cluster yet)',
        master: `local[${this.options.cores ?? cpus().length}]`,
        logPath: join(this.options.logDir, `driver-${++this.starts}.log`),
        ...(this.options.killGraceMs !== undefined ? { killGraceMs: this.options.killGraceMs } : {}),
      }),
    );
    this.driverStart = starting;
    try {
      const started = await starting;
      if (this.driverStart === starting) this.current = started;
      return started;
    } catch (err) {
      if (this.driverStart === starting) this.driverStart = undefined;
      throw new Error(`the local Spark driver could not start: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** The promise's value, or undefined as soon as the signal aborts (the promise goes on for whoever else awaits it). */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
