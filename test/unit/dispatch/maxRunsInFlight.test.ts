/** Issue 16 item 4: Run API runs bypassed maxRunsInFlight (200 concurrent requests, 80 dispatched against a cap of 1). */
import { acceptRunRequests } from '../../../shared/dispatch/accept';
import { claimRunSlot } from '../../../shared/dispatch/admission';
import { handleControl } from '../../../shared/dispatch/control';
import type { ControlMessage } from '../../../shared/dispatch/messages';
import { parseJobCatalog } from '../../../shared/catalog';
import { apiRun, blobRequest, fakeDeps, testCatalogInput, T0 } from '../../support/dispatchFakes';

function cappedDeps(now: { t: number }, cap: number) {
  const deps = fakeDeps(now);
  deps.catalog = parseJobCatalog({ ...testCatalogInput, defaults: { ...testCatalogInput.defaults, maxRunsInFlight: cap } });
  return deps;
}

const inFlight = (deps: ReturnType<typeof fakeDeps>) =>
  [...deps.runs.rows.values()].filter((r) => r.record.state === 'dispatched' || r.record.state === 'running').length;

describe('maxRunsInFlight for direct (Run API) runs', () => {
  it('200 concurrent API runs against a cap of 1: one dispatched, the rest queued, all run one after another', async () => {
    const now = { t: T0 };
    const deps = cappedDeps(now, 1);
    const requests = await Promise.all(
      Array.from({ length: 200 }, (_, i) => apiRun(deps, { ...blobRequest(i), origin: 'api', runId: `api-${String(i).padStart(3, '0')}` })),
    );
    // One delivery each, all at once, as the host's concurrent deliveries would.
    await Promise.all(requests.map((request, index) => acceptRunRequests([{ request, index }], deps)));
    expect(deps.jobs.runNowCalls).toBe(1);
    expect(deps.slots.holders('neows')).toHaveLength(1);
    const states = [...deps.runs.rows.values()].map((r) => r.record.state);
    expect(states.filter((s) => s === 'requested')).toHaveLength(199); // queued, none refused
    expect(deps.scheduler.sent.filter((s) => s.msg.schema === 'orbiter.run-start')).toHaveLength(199);

    // Every run finishes; the cap holds at each step and everything runs.
    let maxSeen = 0;
    for (let guard = 0; guard < 20_000; guard++) {
      const next = deps.scheduler.sent.sort((a, b) => a.at.getTime() - b.at.getTime()).shift();
      if (!next) break;
      now.t = Math.max(now.t, next.at.getTime());
      const m: ControlMessage = next.msg;
      if (m.schema === 'orbiter.run-poll') deps.jobs.set(m.databricksRunId, 'TERMINATED', 'SUCCESS');
      await handleControl(m, deps);
      maxSeen = Math.max(maxSeen, inFlight(deps));
    }
    expect(maxSeen).toBe(1);
    expect([...deps.runs.rows.values()].every((r) => r.record.state === 'succeeded')).toBe(true);
    expect(deps.jobs.runNowCalls).toBe(200);
  });

  it('API runs and coalesced batches share the slots: a batch waits while an API run holds the only one', async () => {
    const now = { t: T0 };
    const deps = cappedDeps(now, 1);
    const api = await apiRun(deps, { ...blobRequest(1), origin: 'api', runId: 'api-first' });
    await acceptRunRequests([{ request: api }, { request: blobRequest(2) }], deps);
    expect(deps.jobs.runNowCalls).toBe(1);
    const flush = deps.scheduler.sent.find((s) => s.msg.schema === 'orbiter.dispatch-flush')!;
    now.t = flush.at.getTime();
    await handleControl(flush.msg, deps);
    expect(deps.jobs.runNowCalls).toBe(1);
    expect(await deps.batches.deferredBuckets('neows')).toHaveLength(1);
  });

  it('a finished run wakes the oldest queued API run at once; a queued run cancelled meanwhile never starts', async () => {
    const now = { t: T0 };
    const deps = cappedDeps(now, 1);
    const a = await apiRun(deps, { ...blobRequest(1), origin: 'api', runId: 'api-a' });
    const b = await apiRun(deps, { ...blobRequest(2, T0 + 1), origin: 'api', runId: 'api-b', requestedAt: new Date(T0 + 1).toISOString() });
    const c = await apiRun(deps, { ...blobRequest(3, T0 + 2), origin: 'api', runId: 'api-c', requestedAt: new Date(T0 + 2).toISOString() });
    await acceptRunRequests([{ request: a }, { request: b }, { request: c }], deps);
    const cur = deps.runs.rows.get('api-c')!;
    await deps.runs.update({ ...cur.record, state: 'cancelled' }, cur.etag);
    const poll = deps.scheduler.sent.find((s) => s.msg.schema === 'orbiter.run-poll')!;
    deps.scheduler.sent.length = 0;
    deps.jobs.set((poll.msg as { databricksRunId: number }).databricksRunId, 'TERMINATED', 'SUCCESS');
    await handleControl(poll.msg, deps);
    const woken = deps.scheduler.take();
    expect(woken).toEqual([expect.objectContaining({ schema: 'orbiter.run-start', runId: 'api-b' })]);
    await handleControl(woken[0]!, deps);
    expect(deps.runs.rows.get('api-b')!.record.state).toBe('dispatched');
    // c's own re-check finds it cancelled: nothing starts.
    await handleControl({ schema: 'orbiter.run-start', version: 1, runId: 'api-c', waits: 1 }, deps);
    expect(deps.jobs.runNowCalls).toBe(2);
    expect(deps.runs.rows.get('api-c')!.record.state).toBe('cancelled');
  });

  it('a slot whose run stopped without finishing (record gone or never dispatched for 10 min) is taken over', async () => {
    const now = { t: T0 };
    const deps = cappedDeps(now, 1);
    // Claimed 11 min ago and still no run record: its claimer died before creating it.
    await deps.slots.create('neows', 0, 'api-ghost', new Date(T0 - 11 * 60_000).toISOString());
    const a = await apiRun(deps, { ...blobRequest(1), origin: 'api', runId: 'api-a' });
    await acceptRunRequests([{ request: a }], deps);
    expect(deps.slots.holders('neows')).toEqual(['api-a']);
    // api-a now holds the slot but (say) its dispatch died; api-b waits until the claim is 10 min old.
    deps.runs.rows.get('api-a')!.record.state = 'requested';
    const b = await apiRun(deps, { ...blobRequest(2), origin: 'api', runId: 'api-b' });
    await acceptRunRequests([{ request: b }], deps);
    expect(deps.slots.holders('neows')).toEqual(['api-a']);
    now.t = T0 + 11 * 60_000;
    await handleControl({ schema: 'orbiter.run-start', version: 1, runId: 'api-b', waits: 1 }, deps);
    expect(deps.slots.holders('neows')).toEqual(['api-b']);
  });

  it('a flush between its claim and its run record keeps the slot: a concurrent claimer does not take it over', async () => {
    const now = { t: T0 };
    const deps = cappedDeps(now, 1);
    // What a coalesced flush does first: claim for the batch's run id, then create the record (flush.ts).
    expect(await claimRunSlot('neows', 'neows-batch-1', deps)).toBe(true);
    expect(deps.runs.rows.has('neows-batch-1')).toBe(false);
    // Another flush or a Run API run of the dataset claims in that gap: the cap of 1 holds.
    expect(await claimRunSlot('neows', 'api-x', deps)).toBe(false);
    now.t = T0 + 9 * 60_000;
    expect(await claimRunSlot('neows', 'api-x', deps)).toBe(false);
    // A claim that never got its record for 10 min was abandoned (its claimer died): then it is taken over.
    now.t = T0 + 11 * 60_000;
    expect(await claimRunSlot('neows', 'api-x', deps)).toBe(true);
    expect(deps.slots.holders('neows')).toEqual(['api-x']);
  });
});
