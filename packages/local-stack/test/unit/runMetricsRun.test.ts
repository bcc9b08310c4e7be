import type { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import type { Run } from 'orbiter/shared/databricks/schemas';
import type { RunRecord, RunStore, StoredRun } from 'orbiter/shared/runs/runStore';
import { awaitCompletionEvents, refreshRunMetrics, runJobOnce } from '../../src/runMetricsRun';

/** Time is a counter the fake sleep advances. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

const record = (runId: string, state: RunRecord['state'], publishedAt?: string): RunRecord =>
  ({ runId, state, ...(publishedAt ? { completionPublishedAt: publishedAt } : {}) }) as RunRecord;

/** A run store whose records gain completionPublishedAt at the given fake time. */
function store(c: ReturnType<typeof clock>, publishAt: Record<string, number>): RunStore {
  return {
    get: async (id: string): Promise<StoredRun | undefined> =>
      publishAt[id] === undefined ? undefined : { etag: '', record: record(id, 'succeeded', c.now() >= publishAt[id] ? 'x' : undefined) },
  } as unknown as RunStore;
}

/** A Jobs API stand-in: run-now starts run 42, which reaches `final` after `ms`. */
function workspace(c: ReturnType<typeof clock>, o: { ms: number; final: Run['state']; deployed?: boolean }) {
  let startedAt = 0;
  const calls: unknown[] = [];
  const client = {
    findJobsByName: async (name: string) => (o.deployed === false ? [] : [{ job_id: name.length }]),
    runNow: async (req: unknown) => (calls.push(req), (startedAt = c.now()), { run_id: 42 }),
    getRun: async (): Promise<Run> => ({
      run_id: 42,
      start_time: startedAt,
      ...(c.now() >= startedAt + o.ms ? { end_time: startedAt + o.ms, state: o.final } : { state: { life_cycle_state: 'RUNNING' } }),
    }),
  } as unknown as DatabricksJobsClient;
  return { client, calls };
}

describe('the local run of the run-metrics stream', () => {
  it('waits for every non-skipped run to publish its completion event, then runs the stream job once to its end', async () => {
    const c = clock();
    const ws = workspace(c, { ms: 30_000, final: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' } });
    const runs = [record('a', 'succeeded'), record('b', 'failed'), record('c', 'skipped')];
    let mirrored = 0;
    const mirror = async (): Promise<number> => (mirrored = c.now());
    const out = await refreshRunMetrics(ws.client, store(c, { a: 1_000_000, b: 1_005_000 }), runs, mirror, { timeoutMs: 600_000, ...c });
    expect(mirrored).toBe(1_005_000); // after the last event was published, before the run
    expect(out).toMatchObject({ ok: true, message: 'succeeded', run: { run_id: 42, start_time: 1_005_000, end_time: 1_035_000 } });
    expect(ws.calls).toEqual([{ job_id: 'orbiter-run-metrics-stream'.length, idempotency_token: expect.stringMatching(/^local-[0-9a-f-]{36}$/) }]);
  });

  it('reports a run that never publishes, a failed run with its state, a run that never ends and a missing job', async () => {
    let c = clock();
    expect(await awaitCompletionEvents(store(c, { a: Number.MAX_SAFE_INTEGER }), [record('a', 'succeeded')], { timeoutMs: 10_000, ...c })).toEqual({
      ok: false,
      message: '1 run(s) never published their completion event',
    });
    c = clock();
    let ws = workspace(c, { ms: 5_000, final: { life_cycle_state: 'TERMINATED', result_state: 'FAILED', state_message: 'boom' } });
    expect(await runJobOnce(ws.client, 'job', { timeoutMs: 60_000, ...c })).toMatchObject({ ok: false, message: 'FAILED: boom' });
    c = clock();
    ws = workspace(c, { ms: Number.MAX_SAFE_INTEGER, final: {} });
    expect(await runJobOnce(ws.client, 'job', { timeoutMs: 60_000, ...c })).toEqual({
      ok: false,
      message: 'the job run 42 did not finish within 60 s',
    });
    ws = workspace(c, { ms: 0, final: {}, deployed: false });
    expect(await runJobOnce(ws.client, 'job', { timeoutMs: 60_000, ...c })).toEqual({ ok: false, message: 'job job is not deployed' });
  });
});
