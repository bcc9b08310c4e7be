import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export interface NotebookRunRequest {
  /** The task's notebook_path: a workspace path for deployed jobs (runners resolve it), or a local .py file. */
  notebookPath: string;
  /** The task's wheel libraries (workspace paths), to install into the task's Python environment. */
  libraries?: string[];
  /** Extra environment of the notebook process (e.g. PYTHONPATH of the installed libraries). */
  env?: Record<string, string>;
  /** Widget values (job parameters win over task base_parameters). */
  parameters: Record<string, string>;
  /** The task run's id (for log/result file names). */
  runId: number;
  taskKey: string;
  /** A directory the runner may use for result and log files. */
  workDir: string;
  /** Aborted when the run is cancelled: stop the notebook (kill the process) and settle promptly. */
  signal: AbortSignal;
  /** The local cluster the task runs on (its job_cluster_key's); unset: the task gets a Spark of its own. */
  cluster?: { clusterId: string; cores: number };
}

export interface NotebookRunResult {
  result_state: 'SUCCESS' | 'FAILED';
  notebook_output: string | null;
  error: string | null;
  error_trace: string | null;
  /** The cluster and Spark context that ran the task (tasks run on a cluster). */
  cluster_instance?: { cluster_id: string; spark_context_id: string };
  /** How long the task waited for its cluster's driver to start (0 when it was already running). */
  setup_ms?: number;
}

/** Runs one notebook task. Resolve with the notebook's outcome; reject only when the runner itself broke. */
export interface NotebookRunner {
  run(request: NotebookRunRequest): Promise<NotebookRunResult>;
  /** The cluster was terminated: stop its driver (runners without clusters have nothing to do). */
  releaseCluster?(clusterId: string): Promise<void>;
  /** Start what the first cluster task will need (the Spark driver) before any task asks for it. */
  prepare?(): Promise<unknown>;
  /** Stop whatever is still running (the emulator shuts down). */
  close?(): Promise<void>;
}

/** The result file contract of runner/run_notebook.py (docs/contracts.md). */
const RunnerResultSchema = z.object({
  result_state: z.enum(['SUCCESS', 'FAILED']),
  notebook_output: z.unknown().optional(),
  error: z.string().nullable().optional(),
  error_trace: z.string().nullable().optional(),
});

export interface PythonNotebookRunnerOptions {
  /** Repository root (cwd of the runner). */
  repoRoot: string;
  /** Default <repoRoot>/.venv/bin/python */
  python?: string;
  /** Default <package>/runner/run_notebook.py */
  script?: string;
  env?: Record<string, string | undefined>;
  /** SIGTERM → SIGKILL grace on cancel (default 5 s). */
  killGraceMs?: number;
}

/**
 * Spawns `.venv/bin/python runner/run_notebook.py --notebook <p> --params <json> --result <out>`
 * per task. The process gets its own process group so a cancel also kills the Spark JVM it started.
 */
export class PythonNotebookRunner implements NotebookRunner {
  private readonly python: string;
  private readonly script: string;

  constructor(private readonly options: PythonNotebookRunnerOptions) {
    this.python = options.python ?? join(options.repoRoot, '.venv', 'bin', 'python');
    this.script = options.script ?? join(__dirname, '..', 'runner', 'run_notebook.py');
  }

  async run(req: NotebookRunRequest): Promise<NotebookRunResult> {
    await mkdir(req.workDir, { recursive: true });
    const resultPath = resolve(req.workDir, `${req.runId}-${req.taskKey}.result.json`);
    const logPath = resolve(req.workDir, `${req.runId}-${req.taskKey}.log`);
    await rm(resultPath, { force: true });
    const log = openSync(logPath, 'a');
    let exitCode: number | null;
    try {
      exitCode = await new Promise<number | null>((resolveExit, reject) => {
        const child = spawn(
          this.python,
          [this.script, '--notebook', req.notebookPath, '--params', JSON.stringify(req.parameters), '--result', resultPath],
          {
            cwd: this.options.repoRoot,
            env: { ...process.env, ...this.options.env, ...req.env },
            stdio: ['ignore', log, log],
            detached: true,
          },
        );
        let killTimer: NodeJS.Timeout | undefined;
        const kill = (signal: NodeJS.Signals): void => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, signal);
          } catch {
            /* already gone */
          }
        };
        const onAbort = (): void => {
          kill('SIGTERM');
          killTimer = setTimeout(() => kill('SIGKILL'), this.options.killGraceMs ?? 5000);
          killTimer.unref();
        };
        if (req.signal.aborted) onAbort();
        else req.signal.addEventListener('abort', onAbort, { once: true });
        child.once('error', (err) => {
          req.signal.removeEventListener('abort', onAbort);
          reject(err);
        });
        child.once('close', (code) => {
          req.signal.removeEventListener('abort', onAbort);
          if (killTimer) clearTimeout(killTimer);
          resolveExit(code);
        });
      });
    } finally {
      closeSync(log);
    }
    if (req.signal.aborted) return { result_state: 'FAILED', notebook_output: null, error: 'Run cancelled', error_trace: null };
    return readRunnerResult(resultPath, `the notebook process exited with code ${exitCode}`, logPath);
  }
}

/** Reads the result file a runner wrote (run_notebook.py and cluster_driver.py share the contract). */
export async function readRunnerResult(resultPath: string, ended: string, logPath: string): Promise<NotebookRunResult> {
  let text: string;
  try {
    text = await readFile(resultPath, 'utf8');
  } catch {
    throw new Error(`${ended} without writing ${resultPath}; see ${logPath}`);
  }
  const parsed = RunnerResultSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`notebook runner wrote an invalid result file ${resultPath}: ${parsed.error.message}`);
  const out = parsed.data.notebook_output;
  return {
    result_state: parsed.data.result_state,
    notebook_output: out === undefined || out === null ? null : typeof out === 'string' ? out : JSON.stringify(out),
    error: parsed.data.error ?? null,
    error_trace: parsed.data.error_trace ?? null,
  };
}
