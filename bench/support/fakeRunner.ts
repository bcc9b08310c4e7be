import type { NotebookRunner, NotebookRunRequest, NotebookRunResult } from '@orbiter/databricks-emulator/notebookRunner';

/**
 * A notebook runner that does no work (no Spark), so the benchmarks measure Orbiter, not PySpark. Optionally each
 * task takes `durationMs(req)` and its end is reported, so completion latency can be measured from the real end.
 */
export class NoWorkRunner implements NotebookRunner {
  tasks = 0;
  constructor(
    private readonly opts: { durationMs?: (req: NotebookRunRequest) => number; onEnd?: (req: NotebookRunRequest, at: number) => void } = {},
  ) {}

  async run(req: NotebookRunRequest): Promise<NotebookRunResult> {
    this.tasks++;
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
    this.opts.onEnd?.(req, Date.now());
    return { result_state: 'SUCCESS', notebook_output: null, error: null, error_trace: null };
  }
}
