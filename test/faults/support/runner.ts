import type { NotebookRunner, NotebookRunRequest, NotebookRunResult } from '@orbiter/databricks-emulator/notebookRunner';

/** One notebook task the emulator executed: which Orbiter run, which task, over which input files. */
export interface TaskExecution {
  orbiterRunId: string;
  databricksTaskRunId: number;
  taskKey: string;
  files: string[];
  result: 'SUCCESS' | 'FAILED' | 'RUNNER_ERROR';
  at: number;
}

/**
 * A notebook runner that does no Spark work (the suite tests Orbiter, not PySpark) but keeps a ledger of every task
 * it executed. `durationMs` keeps runs in flight long enough to be polled; `outcome` scripts failures: 'FAILED' is
 * a notebook failure (CLIENT_ERROR, never retried), 'RUNNER_ERROR' a broken runner (INTERNAL_ERROR, retried by the
 * catalog's policy) — what a permanently failing run scenario needs.
 */
export class ScriptedRunner implements NotebookRunner {
  readonly executions: TaskExecution[] = [];

  constructor(
    private readonly opts: {
      durationMs?: (req: NotebookRunRequest) => number;
      outcome?: (req: NotebookRunRequest) => TaskExecution['result'];
    } = {},
  ) {}

  async run(req: NotebookRunRequest): Promise<NotebookRunResult> {
    const ms = this.opts.durationMs?.(req) ?? 0;
    if (ms > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        req.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const result = this.opts.outcome?.(req) ?? 'SUCCESS';
    this.executions.push({
      orbiterRunId: req.parameters['orbiter_run_id'] ?? '',
      databricksTaskRunId: req.runId,
      taskKey: req.taskKey,
      files: manifestFiles(req.parameters['input_manifest']),
      result,
      at: Date.now(),
    });
    if (result === 'RUNNER_ERROR') throw new Error('injected runner failure');
    return result === 'SUCCESS'
      ? { result_state: 'SUCCESS', notebook_output: null, error: null, error_trace: null }
      : { result_state: 'FAILED', notebook_output: null, error: 'injected notebook failure', error_trace: null };
  }
}

/** "container/path@etag" of every file in an input_manifest job parameter (empty for "process everything"). */
export function manifestFiles(manifest: string | undefined): string[] {
  if (!manifest) return [];
  const parsed = JSON.parse(manifest) as { files?: { container: string; path: string; etag: string }[] };
  return (parsed.files ?? []).map((f) => fileKey(f.container, f.path, f.etag));
}

/** Listings give ETags bare, blob properties quoted: one spelling for both. */
export const fileKey = (container: string, path: string, etag: string): string => `${container}/${path}@${etag.replace(/"/g, '')}`;
