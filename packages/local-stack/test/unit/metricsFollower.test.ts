import type { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import { silentLogger } from 'orbiter/shared/logger';
import { followRunMetrics } from '../../src/metricsFollower';
import type { JobRunOutcome } from '../../src/runMetricsRun';

/** A follower whose passes the test drives (the interval is far away); mirror results and run outcomes are scripted. */
function follower(mirrored: number[], outcomes: JobRunOutcome[]) {
  const runs: number[] = [];
  const warnings: string[] = [];
  const f = followRunMetrics({
    client: {} as DatabricksJobsClient,
    mirror: async () => mirrored.shift() ?? 0,
    logger: { ...silentLogger, warn: (msg: string) => void warnings.push(msg) },
    intervalMs: 3_600_000,
    runOnce: async () => {
      runs.push(runs.length + 1);
      return outcomes.shift() ?? { ok: true, message: 'succeeded' };
    },
  });
  return { f, runs, warnings };
}

describe('following the run metrics in the live stack', () => {
  it('folds new completion events with one stream run, and runs nothing when none arrived', async () => {
    const { f, runs } = follower([3, 0, 0, 2], []);
    await f.pass();
    expect(runs).toHaveLength(1);
    await f.pass();
    await f.pass();
    expect(runs).toHaveLength(1);
    await f.pass();
    expect(runs).toHaveLength(2);
    f.stop();
  });

  it('retries a failed fold at the next pass although no new event arrived', async () => {
    const { f, runs, warnings } = follower([1, 0, 0], [{ ok: false, message: 'FAILED: boom' }]);
    await f.pass();
    expect(warnings).toEqual([expect.stringContaining('stream run failed')]);
    await f.pass();
    expect(runs).toHaveLength(2);
    await f.pass();
    expect(runs).toHaveLength(2);
    f.stop();
  });

  it('never overlaps passes, and a mirror that throws is logged and retried', async () => {
    let calls = 0;
    const f = followRunMetrics({
      client: {} as DatabricksJobsClient,
      mirror: async () => {
        calls++;
        if (calls === 1) throw new Error('azurite down');
        return 0;
      },
      logger: silentLogger,
      intervalMs: 3_600_000,
      runOnce: async () => ({ ok: true, message: 'succeeded' }),
    });
    const [a, b] = [f.pass(), f.pass()];
    expect(a).toBe(b);
    await a;
    await f.pass();
    expect(calls).toBe(2);
    f.stop();
  });
});
