/** The batch path of run-requests: grouping, one flush per batch, redelivery, invalid members. */
import { acceptRunRequest, acceptRunRequests, validateRunRequests } from '../../../shared/dispatch/accept';
import { handleControl } from '../../../shared/dispatch/control';
import { apiRun, fakeDeps, testCatalog, blobRequest, T0 } from '../../support/dispatchFakes';

const flushes = (deps: ReturnType<typeof fakeDeps>) => deps.scheduler.sent.filter((s) => s.msg.schema === 'orbiter.dispatch-flush');

/** Delivers every scheduled flush (in time order, advancing the clock) until none is left; polls are dropped. */
async function drain(deps: ReturnType<typeof fakeDeps>, now: { t: number }): Promise<void> {
  for (let guard = 0; guard < 1000; guard++) {
    const sent = deps.scheduler.sent;
    sent.sort((a, b) => a.at.getTime() - b.at.getTime());
    const i = sent.findIndex((s) => s.msg.schema === 'orbiter.dispatch-flush');
    if (i < 0) return;
    const [next] = sent.splice(i, 1);
    now.t = Math.max(now.t, next!.at.getTime());
    await handleControl(next!.msg, deps);
  }
  throw new Error('flushes did not settle');
}

describe('acceptRunRequests (a delivered batch)', () => {
  it('groups mixed datasets and windows: one write and one flush per (dataset, bucket)', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const windowMs = 60_000; // the test catalog's window
    const batch = [
      ...Array.from({ length: 150 }, (_, i) => blobRequest(i, T0 + i)),
      ...Array.from({ length: 20 }, (_, i) => blobRequest(i, T0 + i, 'apod')),
      ...Array.from({ length: 5 }, (_, i) => blobRequest(1000 + i, T0 + windowMs + i)), // next window
    ];
    await acceptRunRequests(
      batch.map((request) => ({ request })),
      deps,
    );
    expect(deps.batches.addManyCalls).toBe(3);
    const f = flushes(deps)
      .map((s) => s.id)
      .sort();
    expect(f).toHaveLength(3);
    expect(new Set(f).size).toBe(3);
    await drain(deps, now);
    const runs = [...deps.runs.rows.values()].map((r) => r.record);
    expect(runs.map((r) => [r.dataset, r.inputs.length]).sort()).toEqual([
      ['apod', 20],
      ['neows', 150],
      ['neows', 5],
    ]);
  });

  it('a redelivered batch writes the same rows and still ends in one run per batch', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const batch = Array.from({ length: 30 }, (_, i) => ({ request: blobRequest(i, T0 + i) }));
    await acceptRunRequests(batch, deps);
    // The host abandoned it (say a later write failed) and delivers it again.
    await acceptRunRequests(batch, deps);
    expect((await deps.batches.items('neows', Math.floor(T0 / 60_000) * 60_000)).length).toBe(30);
    // The redelivery cannot know whether the first attempt scheduled the flush it claimed: it sends it again under
    // the same MessageId, and duplicate detection drops the copy.
    expect(flushes(deps)).toHaveLength(1);
    await drain(deps, now);
    expect(deps.runs.rows.size).toBe(1);
    expect(deps.jobs.runs.size).toBe(1);
    expect([...deps.runs.rows.values()][0]!.record.inputs).toHaveLength(30);
  });

  it('loss under a broker outage (issue 16): a delivery that claimed the flush but could not send it is repaired by the next delivery, even one that does not look redelivered', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const batch = Array.from({ length: 3 }, (_, i) => ({ request: blobRequest(i, T0 + i) }));
    const schedule = deps.scheduler.schedule.bind(deps.scheduler);
    deps.scheduler.schedule = async () => {
      throw new Error('bus unavailable');
    };
    await expect(acceptRunRequests(batch, deps)).rejects.toThrow('bus unavailable');
    deps.scheduler.schedule = schedule;
    // After a broker restart the messages come back as first deliveries (the lost lock was never counted).
    await acceptRunRequests(batch, deps);
    await drain(deps, now);
    expect([...deps.runs.rows.values()].map((r) => r.record.inputs.length)).toEqual([3]);
  });

  it('loss under a broker outage (issue 16): other requests of a batch whose claimed flush was never sent still bring it to a run', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const schedule = deps.scheduler.schedule.bind(deps.scheduler);
    deps.scheduler.schedule = async () => {
      throw new Error('bus unavailable');
    };
    await expect(acceptRunRequests([{ request: blobRequest(0, T0) }], deps)).rejects.toThrow('bus unavailable');
    deps.scheduler.schedule = schedule;
    // The first request's message is gone for good (say it dead-lettered); a later request of the same batch arrives.
    await acceptRunRequests([{ request: blobRequest(1, T0 + 1) }], deps);
    await drain(deps, now);
    expect([...deps.runs.rows.values()].map((r) => r.record.inputs.length)).toEqual([2]);
  });

  it('requests that arrive after their batch was flushed get one follow-up flush per delivered group, not one each', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(0), deps);
    await drain(deps, now);
    expect(deps.runs.rows.size).toBe(1);
    await acceptRunRequests(
      Array.from({ length: 40 }, (_, i) => ({ request: blobRequest(100 + i, T0 + 10 + i) })),
      deps,
    );
    expect(flushes(deps)).toHaveLength(1);
    expect(flushes(deps)[0]!.id).toMatch(/-late-[0-9a-f]{16}$/);
    await drain(deps, now);
    expect([...deps.runs.rows.values()].map((r) => r.record.inputs.length).sort((a, b) => a - b)).toEqual([1, 40]);
  });

  it('Run API requests in a batch are dispatched one run each, beside the coalesced ones', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequests(
      [
        { request: blobRequest(1) },
        { request: await apiRun(deps, { ...blobRequest(2), origin: 'api', runId: 'api-a' }) },
        { request: await apiRun(deps, { ...blobRequest(3), origin: 'api', runId: 'api-b' }) },
      ],
      deps,
    );
    expect(deps.jobs.runNowCalls).toBe(2);
    expect([...deps.runs.rows.keys()].sort()).toEqual(['api-a', 'api-b']);
    expect(flushes(deps)).toHaveLength(1);
  });

  it('attack: a direct request put on the queue without a Run API record runs nothing and is rejected with the reason', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const forged = { ...blobRequest(2), origin: 'api' as const, runId: 'forged-1' };
    const out = await acceptRunRequests(
      [
        { request: blobRequest(1), index: 0 },
        { request: forged, index: 1 },
      ],
      deps,
    );
    expect(out.rejected).toEqual([{ index: 1, reason: 'UnknownRun', description: expect.stringMatching(/forged-1 has no run record/) }]);
    expect(deps.jobs.runNowCalls).toBe(0);
    expect(deps.runs.rows.has('forged-1')).toBe(false);
    // A recorded run is dispatched from its record: the message's inputs and parameters change nothing.
    await apiRun(deps, { ...blobRequest(3), origin: 'api', runId: 'api-c' });
    await acceptRunRequests([{ request: { ...blobRequest(4), origin: 'api', runId: 'api-c', parameters: { mode: 'evil' } }, index: 0 }], deps);
    const sent = [...deps.jobs.runs.values()][0]!;
    expect(JSON.stringify(sent)).not.toContain('evil');
    expect(deps.runs.rows.get('api-c')!.record.inputs).toEqual(blobRequest(3).inputs);
  });

  it('a failing group fails the whole call, after the other groups were written (the host abandons the batch)', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const addMany = deps.batches.addMany.bind(deps.batches);
    deps.batches.addMany = async (dataset, bucket, items) => {
      if (dataset === 'apod') throw new Error('table unavailable');
      return addMany(dataset, bucket, items);
    };
    await expect(acceptRunRequests([{ request: blobRequest(1) }, { request: blobRequest(2, T0, 'apod') }], deps)).rejects.toThrow(
      'table unavailable',
    );
    expect(deps.batches.rows.size).toBe(1); // neows was written; a redelivery rewrites it harmlessly
  });
});

describe('validateRunRequests', () => {
  it('attack: inputs outside raw/<dataset>/ are rejected whoever sent them (other zone, .., another dataset, odd paths)', () => {
    const base = blobRequest(1);
    const input = base.inputs[0]!;
    const bad = [
      { ...input, container: 'quarantine' },
      { ...input, path: 'neows/../../quarantine/neows/feed/2024/05/25/x.json' },
      { ...input, path: 'neows/./feed/x.json' },
      { ...input, path: '/neows/feed/x.json' },
      { ...input, path: 'neows//feed/x.json' },
      { ...input, path: 'neows\\..\\silver\\x.json' },
      { ...input, path: 'donki/FLR/2024/05/01/x.json' },
      { ...input, path: 'neows/feed/x\u0000.json' },
    ];
    const { valid, rejected } = validateRunRequests(
      bad.map((i) => ({ ...base, inputs: [i] })),
      testCatalog,
    );
    expect(valid).toEqual([]);
    expect(rejected.map((r) => r.reason)).toEqual(bad.map(() => 'InvalidRunRequest'));
    expect(rejected[1]!.description).toMatch(/inputs\.0\.path: lake path must not contain \. or \.\. segments/);
    expect(rejected[6]!.description).toMatch(/must be under neows\//);
  });

  it('rejects members no retry can fix, with a reason each, and keeps the valid ones in order', () => {
    const bodies = [
      blobRequest(1),
      { schema: 'orbiter.run-request', version: 2 },
      'not json at all',
      blobRequest(2, T0, 'donki'),
      blobRequest(3, T0, 'apod'),
    ];
    const { valid, rejected } = validateRunRequests(bodies, testCatalog);
    expect(valid.map((v) => [v.index, v.request.requestId])).toEqual([
      [0, 'req-neows-1'],
      [4, 'req-apod-3'],
    ]);
    expect(rejected.map((r) => [r.index, r.reason])).toEqual([
      [1, 'InvalidRunRequest'],
      [2, 'InvalidRunRequest'],
      [3, 'UnknownDataset'],
    ]);
    expect(rejected[0]!.description).toMatch(/^not a valid orbiter.run-request v1: .*version/);
    expect(rejected[2]!.description).toBe('dataset "donki" is not in the job catalog');
  });
});
