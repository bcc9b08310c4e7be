import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readRunnerResult, type NotebookRunner, type NotebookRunRequest, type NotebookRunResult } from '../notebookRunner';
import { DriverGoneError, DriverProcess } from './driverProcess';

export interface ClusterNotebookRunnerOptions {
  /** Repository root (cwd of the drivers). */
  repoRoot: string;
  /** Default <repoRoot>/.venv/bin/python */
  python?: string;
  /** Default <package>/runner/cluster_driver.py */
  script?: string;
  env?: Record<string, string | undefined>;
  /** Where each cluster's driver log goes (<logDir>/<cluster_id>.log). */
  logDir: string;
  /** Runs tasks that name no cluster (a Spark of their own per task). */
  perTask: NotebookRunner;
  killGraceMs?: number;
}

/**
 * Runs notebook tasks on their cluster's long-lived driver (runner/cluster_driver.py): started by the first task
 * that needs it, reused by the next ones, restarted when it died or was killed. Tasks without a cluster go to the
 * per-task runner.
 */
export class ClusterNotebookRunner implements NotebookRunner {
  private readonly drivers = new Map<string, Promise<DriverProcess>>();
  private readonly python: string;
  private readonly script: string;

  constructor(private readonly options: ClusterNotebookRunnerOptions) {
    this.python = options.python ?? join(options.repoRoot, '.venv', 'bin', 'python');
    this.script = options.script ?? join(__dirname, '..', '..', 'runner', 'cluster_driver.py');
  }

  async run(req: NotebookRunRequest): Promise<NotebookRunResult> {
    const cluster = req.cluster;
    if (!cluster) return this.options.perTask.run(req);
    await mkdir(req.workDir, { recursive: true });
    await mkdir(this.options.logDir, { recursive: true });
    const resultPath = resolve(req.workDir, `${req.runId}-${req.taskKey}.result.json`);
    const logPath = resolve(req.workDir, `${req.runId}-${req.taskKey}.log`);
    await rm(resultPath, { force: true });

    const setupStart = Date.now();
    const driver = await this.driver(cluster.clusterId, cluster.cores, req.signal);
    const setupMs = Date.now() - setupStart;
    const instance = { cluster_id: cluster.clusterId, spark_context_id: driver.sparkContextId };
    // A running notebook cannot be interrupted safely inside a shared driver: cancel and timeout kill the driver.
    const onAbort = (): void => {
      this.forget(driver);
      driver.kill();
    };
    if (req.signal.aborted) onAbort();
    req.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const healthy = await driver.run({
        notebook: req.notebookPath,
        params: req.parameters,
        result: resultPath,
        log: logPath,
        env: stringEnv(req.env),
      });
      if (!healthy) this.forget(driver);
    } catch (err) {
      this.forget(driver);
      if (req.signal.aborted)
        return {
          result_state: 'FAILED',
          notebook_output: null,
          error: 'Run cancelled',
          error_trace: null,
          cluster_instance: instance,
          setup_ms: setupMs,
        };
      if (!(err instanceof DriverGoneError)) throw err;
      const error = `${err.message}; the next task on this cluster gets a new driver. See ${logPath}`;
      return { result_state: 'FAILED', notebook_output: null, error, error_trace: null, cluster_instance: instance, setup_ms: setupMs };
    } finally {
      req.signal.removeEventListener('abort', onAbort);
    }
    const result = await readRunnerResult(resultPath, `the driver of cluster ${cluster.clusterId} replied`, logPath);
    return { ...result, cluster_instance: instance, setup_ms: setupMs };
  }

  async releaseCluster(clusterId: string): Promise<void> {
    const pending = this.drivers.get(clusterId);
    this.drivers.delete(clusterId);
    const driver = await pending?.catch(() => undefined);
    await driver?.stop();
  }

  /** The cluster's running driver, started (once, however many tasks ask at the same time) when it has none. */
  private async driver(clusterId: string, cores: number, signal: AbortSignal): Promise<DriverProcess> {
    const existing = this.drivers.get(clusterId);
    if (existing) {
      const d = await existing.catch(() => undefined);
      if (d?.alive) return d;
      void d?.stop(); // retired: make sure its process and JVM are gone
      if (this.drivers.get(clusterId) === existing) this.drivers.delete(clusterId);
      if (this.drivers.has(clusterId)) return this.driver(clusterId, cores, signal);
    }
    const starting = DriverProcess.start(
      {
        python: this.python,
        script: this.script,
        cwd: this.options.repoRoot,
        env: { ...this.options.env },
        clusterId,
        master: `local[${cores}]`,
        logPath: join(this.options.logDir, `${clusterId}.log`),
        ...(this.options.killGraceMs !== undefined ? { killGraceMs: this.options.killGraceMs } : {}),
      },
      signal,
    );
    this.drivers.set(clusterId, starting);
    try {
      return await starting;
    } catch (err) {
      if (this.drivers.get(clusterId) === starting) this.drivers.delete(clusterId);
      throw new Error(`cluster ${clusterId} could not start its Spark driver: ${(err as Error).message}`, { cause: err });
    }
  }

  private forget(driver: DriverProcess): void {
    driver.retire(); // driver() starts a new one for the next task
  }
}

function stringEnv(env: Record<string, string> | undefined): Record<string, string> {
  return { ...env };
}
