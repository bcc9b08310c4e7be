import type { Run, RunOutput } from '../../../shared/databricks/schemas';
import { ApiError } from '../../../shared/api/problem';
import { getRunLogs, LOG_CHARS, type RunReadClient } from '../../../shared/api/runLogs';
import { createRuns, getRun, toView } from '../../../shared/api/runs';
import { mutateRun } from '../../../shared/runs/runStore';
import { apiDeps } from './fakes';

const ctx = { baseUrl: 'http://127.0.0.1:7071' };

/** A Databricks run of three tasks; get-output per task run id, counting calls. */
function workspace(outputs: Record<number, RunOutput>): RunReadClient & { outputCalls: number[] } {
  const run: Run = {
    run_id: 77,
    tasks: [
      { run_id: 771, task_key: 'bronze', state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' } },
      { run_id: 772, task_key: 'silver', state: { life_cycle_state: 'TERMINATED', result_state: 'FAILED' } },
      { run_id: 773, task_key: 'gold', state: { life_cycle_state: 'SKIPPED' } },
    ],
  };
  const calls: number[] = [];
  return {
    outputCalls: calls,
    getRun: (id) => (id === 77 ? Promise.resolve(run) : Promise.reject(new Error(`no run ${id}`))),
    getRunOutput: (id) => (calls.push(id), Promise.resolve(outputs[id] ?? {})),
  };
}

async function submittedRun() {
  const { deps, runs } = apiDeps();
  const out = await createRuns({ dataset: 'donki' }, ctx, deps);
  await mutateRun(runs, out.body.runId, (r) => ({ ...r, state: 'failed', databricksRunId: 77 }));
  return { deps, runs, runId: out.body.runId };
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('GET /api/runs/{id}/logs', () => {
  it("returns every task's logs, exit value and error from runs/get-output", async () => {
    const { runs, runId } = await submittedRun();
    const dbx = workspace({
      771: { logs: 'bronze donki: files per table {}\n', notebook_output: { result: '{"stage":"bronze"}' } },
      772: { logs: 'Traceback ...', error: 'AnalysisException: boom', error_trace: 'at line 3' },
    });
    const out = await getRunLogs(runId, {}, { runs, databricks: () => Promise.resolve(dbx) });
    expect(out.databricksRunId).toBe(77);
    expect(out.tasks.map((t) => [t.taskKey, t.state])).toEqual([
      ['bronze', 'SUCCESS'],
      ['silver', 'FAILED'],
      ['gold', 'SKIPPED'],
    ]);
    expect(out.tasks[0]).toMatchObject({ logs: 'bronze donki: files per table {}\n', output: '{"stage":"bronze"}' });
    expect(out.tasks[1]).toMatchObject({ error: 'AnalysisException: boom', errorTrace: 'at line 3' });
    expect(out.tasks[2]!.logs).toBeUndefined();
  });

  it('?task= reads one task only; an unknown task is a 404 naming the tasks', async () => {
    const { runs, runId } = await submittedRun();
    const dbx = workspace({ 772: { logs: 'silver log' } });
    const out = await getRunLogs(runId, { task: 'silver' }, { runs, databricks: () => Promise.resolve(dbx) });
    expect(out.tasks.map((t) => t.logs)).toEqual(['silver log']);
    expect(dbx.outputCalls).toEqual([772]);
    const err = await rejection(getRunLogs(runId, { task: 'platinum' }, { runs, databricks: () => Promise.resolve(dbx) }));
    expect([err.status, err.message]).toEqual([404, `run ${runId} has no task "platinum" (tasks: bronze, silver, gold)`]);
  });

  it('keeps the tail of long logs and says so; bad input and runs without a Databricks run are clear errors', async () => {
    const { deps, runs, runId } = await submittedRun();
    const long = `${'x'.repeat(LOG_CHARS)}THE END`;
    const dbx = workspace({ 771: { logs: long } });
    const out = await getRunLogs(runId, { task: 'bronze' }, { runs, databricks: () => Promise.resolve(dbx) });
    expect(out.tasks[0]!.logs).toHaveLength(LOG_CHARS);
    expect(out.tasks[0]!.logs!.endsWith('THE END')).toBe(true);
    expect(out.tasks[0]!.logsTruncated).toBe(true);
    expect((await rejection(getRunLogs(runId, { task: 'a b' }, { runs, databricks: () => Promise.resolve(dbx) }))).status).toBe(400);
    expect((await rejection(getRunLogs('nope', {}, { runs, databricks: () => Promise.resolve(dbx) }))).status).toBe(404);
    const pending = await createRuns({ dataset: 'neows' }, ctx, deps);
    const err = await rejection(getRunLogs(pending.body.runId, {}, { runs, databricks: () => Promise.resolve(dbx) }));
    expect([err.status, err.message]).toEqual([404, `run ${pending.body.runId} has no Databricks run yet (state requested)`]);
  });

  it('GET /api/runs/{id} exposes the recorded tasks', async () => {
    const { deps, runs, runId } = await submittedRun();
    expect((await getRun(runId, ctx.baseUrl, deps)).tasks).toBeUndefined();
    const tasks = [
      { taskKey: 'silver', databricksRunId: 772, dependsOn: ['bronze'], state: 'SUCCESS', durationMs: 1500, rowsWritten: 45, quarantined: 3 },
    ];
    const rec = await mutateRun(runs, runId, (r) => ({ ...r, tasks }));
    expect((await getRun(runId, ctx.baseUrl, deps)).tasks).toEqual(tasks);
    expect(toView(rec!, ctx.baseUrl).tasks?.[0]?.rowsWritten).toBe(45);
  });
});
