/**
 * Found by the fault matrix under stress-ng (Azurite restarted while runs are dispatched): a flush that wrote its run
 * record and claimed the only run slot, then failed to stamp the rows, left a `requested` run nobody would start.
 * Rows that joined the batch before the retry changed the set's run id, so every retry was deferred behind the
 * orphan's slot for ten minutes, and the orphan itself never ran.
 */
import { acceptRunRequests } from '../../../shared/dispatch/accept';
import { handleControl } from '../../../shared/dispatch/control';
import { parseJobCatalog } from '../../../shared/catalog';
import { blobRequest, fakeDeps, testCatalogInput, T0 } from '../../support/dispatchFakes';

describe('a flush cut short between its run record and stamping the rows', () => {
  it('is adopted by the retry: the orphan runs with its own inputs, the joiners run next, within seconds', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    deps.catalog = parseJobCatalog({ ...testCatalogInput, defaults: { ...testCatalogInput.defaults, maxRunsInFlight: 1 } });
    await acceptRunRequests([{ request: blobRequest(1) }, { request: blobRequest(2) }], deps);

    // Storage goes away right after the run record is written: stamping the rows fails (a retryable 503).
    const assign = deps.batches.assign.bind(deps.batches);
    deps.batches.assign = () => Promise.reject(Object.assign(new Error('storage down'), { statusCode: 503 }));
    const flush = deps.scheduler.sent.shift()!;
    now.t = flush.at.getTime();
    await handleControl(flush.msg, deps);
    const orphan = [...deps.runs.rows.values()].map((r) => r.record);
    expect(orphan.map((r) => [r.state, r.inputs.length])).toEqual([['requested', 2]]);
    expect(deps.slots.holders('neows')).toEqual([orphan[0]!.runId]);
    deps.batches.assign = assign;

    // Storage is back; a third file joins the same batch before the rescheduled flush runs.
    await acceptRunRequests([{ request: blobRequest(3) }], deps);
    for (let guard = 0; guard < 1000 && deps.scheduler.sent.length > 0; guard++) {
      const next = deps.scheduler.sent.sort((a, b) => a.at.getTime() - b.at.getTime()).shift()!;
      now.t = Math.max(now.t, next.at.getTime());
      if (next.msg.schema === 'orbiter.run-poll') deps.jobs.set(next.msg.databricksRunId, 'TERMINATED', 'SUCCESS');
      await handleControl(next.msg, deps);
    }

    const runs = [...deps.runs.rows.values()].map((r) => r.record);
    expect(runs.map((r) => r.state)).toEqual(['succeeded', 'succeeded']);
    expect(runs.find((r) => r.runId === orphan[0]!.runId)!.inputs).toHaveLength(2);
    expect(runs.flatMap((r) => r.inputs.map((i) => i.path)).sort()).toEqual([1, 2, 3].map((i) => `neows/feed/2024/05/25/file-${i}.json`));
    expect(deps.jobs.runNowCalls).toBe(2);
    // Well inside the ten minutes after which an abandoned slot claim would have been taken over.
    expect(now.t - flush.at.getTime()).toBeLessThan(2 * 60_000);
  });

  it('is not "adopted" when it holds exactly the set the retry takes: the retry finds the same run id', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const warn = jest.fn();
    deps.logger = { ...deps.logger, warn };
    await acceptRunRequests([{ request: blobRequest(1) }, { request: blobRequest(2) }], deps);
    const assign = deps.batches.assign.bind(deps.batches);
    deps.batches.assign = () => Promise.reject(Object.assign(new Error('storage down'), { statusCode: 503 }));
    const flush = deps.scheduler.sent.shift()!;
    now.t = flush.at.getTime();
    await handleControl(flush.msg, deps).catch(() => undefined);
    deps.batches.assign = assign;

    await handleControl(flush.msg, deps);
    const runs = [...deps.runs.rows.values()].map((r) => r.record);
    expect(runs.map((r) => [r.state, r.inputs.length])).toEqual([['dispatched', 2]]);
    expect(deps.jobs.runNowCalls).toBe(1);
    expect(warn.mock.calls.map((c) => String(c[0]))).not.toContainEqual(expect.stringContaining('adopting'));
  });
});
