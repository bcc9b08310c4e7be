import type { Run, RunOutput } from '../databricks/schemas';
import { ApiError, validationError } from './problem';
import { parseRunId, type RunApiDeps } from './runs';
import { runLogsQuery, type RunLogsView } from './schemas';

/** The Jobs API reads behind a run's logs: runs/get for its tasks, runs/get-output per task (Azure and the emulator alike). */
export interface RunReadClient {
  getRun(databricksRunId: number): Promise<Run>;
  getRunOutput(taskRunId: number): Promise<RunOutput>;
}

/** Characters of each task's logs returned (the tail: where a failure is). */
export const LOG_CHARS = 200_000;

const tail = (s: string | undefined): { text?: string; cut: boolean } =>
  s === undefined ? { cut: false } : s.length > LOG_CHARS ? { text: s.slice(-LOG_CHARS), cut: true } : { text: s, cut: false };

/**
 * GET /api/runs/{id}/logs[?task=key]: each task's stdout/stderr, exit value and error, read live from the Databricks
 * run (runs/get-output), so it works for a running run too. 404 when the run has no Databricks run yet or the task
 * is not part of it.
 */
export async function getRunLogs(
  id: string | undefined,
  query: Record<string, string>,
  deps: Pick<RunApiDeps, 'runs'> & { databricks(): Promise<RunReadClient> },
): Promise<RunLogsView> {
  const runId = parseRunId(id);
  const q = runLogsQuery.safeParse(query);
  if (!q.success) throw validationError(q.error, 'query');
  const stored = await deps.runs.get(runId);
  if (!stored) throw new ApiError(404, 'run-not-found', `run ${runId} not found`);
  const databricksRunId = stored.record.databricksRunId;
  if (databricksRunId === undefined)
    throw new ApiError(404, 'run-not-submitted', `run ${runId} has no Databricks run yet (state ${stored.record.state})`);
  const client = await deps.databricks();
  const run = await client.getRun(databricksRunId);
  const tasks = (run.tasks ?? []).filter((t) => !q.data.task || t.task_key === q.data.task);
  if (q.data.task && tasks.length === 0)
    throw new ApiError(
      404,
      'task-not-found',
      `run ${runId} has no task "${q.data.task}" (tasks: ${(run.tasks ?? []).map((t) => t.task_key).join(', ') || 'none'})`,
    );
  const out: RunLogsView['tasks'] = [];
  for (const t of tasks) {
    const o = await client.getRunOutput(t.run_id);
    const logs = tail(o.logs);
    out.push({
      taskKey: t.task_key,
      databricksRunId: t.run_id,
      state: t.state?.result_state ?? t.state?.life_cycle_state ?? 'UNKNOWN',
      ...(logs.text !== undefined ? { logs: logs.text } : {}),
      ...(logs.cut || o.logs_truncated ? { logsTruncated: true } : {}),
      ...(o.notebook_output?.result !== undefined ? { output: o.notebook_output.result } : {}),
      ...(o.error ? { error: o.error } : {}),
      ...(o.error_trace ? { errorTrace: o.error_trace } : {}),
    });
  }
  return { runId, databricksRunId, tasks: out };
}
