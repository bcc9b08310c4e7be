import type { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import type { Run } from 'orbiter/shared/databricks/schemas';
import { insightsTrigger, waitForInsightsRun } from '../../src/insightsRun';

/** A Jobs API stand-in holding the insights job and its runs; time is a counter the fake sleep advances. */
function fakeWorkspace(o: { runs: (now: number) => Run[]; trigger?: Record<string, unknown> | undefined; deployed?: boolean }) {
  let now = 1_000_000;
  const client = {
    findJobsByName: async () => (o.deployed === false ? [] : [{ job_id: 7 }]),
    getJob: async () => ({ job_id: 7, settings: o.trigger ? { trigger: o.trigger } : {} }),
    listRuns: async (p: { start_time_from?: number }) => ({
      runs: o.runs(now).filter((r) => (r.start_time ?? 0) >= (p.start_time_from ?? 0)),
      has_more: false,
    }),
  } as unknown as DatabricksJobsClient;
  return { client, now: () => now, sleep: async (ms: number) => void (now += ms) };
}

const trigger = { pause_status: 'UNPAUSED', table_update: { table_names: ['orbiter.gold.a'], wait_after_last_change_seconds: 60 } };
const run = (start: number, life: string, result?: string, trig = 'TABLE'): Run => ({
  run_id: start,
  trigger: trig,
  start_time: start,
  state: { life_cycle_state: life, ...(result ? { result_state: result } : {}) },
});

describe('waiting for the table-triggered insights run', () => {
  it('returns the TABLE run started after the pipelines once it is terminal, ignoring earlier and other runs', async () => {
    const after = 1_000_000;
    const ws = fakeWorkspace({
      trigger,
      runs: (now) => [
        run(after - 5_000, 'TERMINATED', 'SUCCESS'), // an earlier burst's run
        run(after + 1, 'TERMINATED', 'SUCCESS', 'ONE_TIME'),
        ...(now >= after + 60_000 ? [run(after + 60_000, now >= after + 90_000 ? 'TERMINATED' : 'RUNNING', 'SUCCESS')] : []),
      ],
    });
    const out = await waitForInsightsRun(ws.client, { after, timeoutMs: 600_000, now: ws.now, sleep: ws.sleep });
    expect(out).toMatchObject({ kind: 'succeeded', run: { run_id: after + 60_000 } });
    expect(ws.now()).toBeGreaterThanOrEqual(after + 90_000);
  });

  it('reports a failed run with its state', async () => {
    const ws = fakeWorkspace({ trigger, runs: () => [run(1_000_100, 'TERMINATED', 'FAILED')] });
    expect(await waitForInsightsRun(ws.client, { after: 1_000_000, timeoutMs: 60_000, now: ws.now, sleep: ws.sleep })).toMatchObject({
      kind: 'failed',
      message: 'FAILED',
    });
  });

  it('gives up when nothing was triggered once the delays and the grace period have passed, not at the timeout', async () => {
    const ws = fakeWorkspace({ trigger, runs: () => [] });
    const out = await waitForInsightsRun(ws.client, { after: 1_000_000, timeoutMs: 3_600_000, graceMs: 30_000, now: ws.now, sleep: ws.sleep });
    expect(out.kind).toBe('not-triggered');
    expect(ws.now()).toBeGreaterThan(1_000_000 + 90_000);
    expect(ws.now()).toBeLessThan(1_000_000 + 100_000);
  });

  it('times out on a run that never ends, and says when the job or its trigger is missing', async () => {
    const ws = fakeWorkspace({ trigger, runs: () => [run(1_000_100, 'RUNNING')] });
    expect((await waitForInsightsRun(ws.client, { after: 1_000_000, timeoutMs: 30_000, now: ws.now, sleep: ws.sleep })).kind).toBe('timeout');
    const none = fakeWorkspace({ deployed: false, runs: () => [] });
    expect(await waitForInsightsRun(none.client, { after: 0, timeoutMs: 1_000 })).toMatchObject({ kind: 'not-triggered', message: /not deployed/ });
    const paused = fakeWorkspace({ trigger: { ...trigger, pause_status: 'PAUSED' }, runs: () => [] });
    expect(await waitForInsightsRun(paused.client, { after: 0, timeoutMs: 1_000 })).toMatchObject({ kind: 'not-triggered', message: /no unpaused/ });
  });
});

describe('the insights trigger as deployed', () => {
  it('is unpaused, paused (the --once deploy) or missing', async () => {
    expect(await insightsTrigger(fakeWorkspace({ runs: () => [], trigger }).client)).toBe('unpaused');
    expect(await insightsTrigger(fakeWorkspace({ runs: () => [], trigger: { ...trigger, pause_status: 'PAUSED' } }).client)).toBe('paused');
    expect(await insightsTrigger(fakeWorkspace({ runs: () => [], trigger: undefined }).client)).toBe('missing');
    expect(await insightsTrigger(fakeWorkspace({ runs: () => [], trigger, deployed: false }).client)).toBe('missing');
  });
});
