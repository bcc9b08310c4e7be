import { makeDispatchRunRequests } from '../../../functions/dispatchRunRequests';
import { blobRequest, fakeDeps, T0 } from '../../support/dispatchFakes';
import { invocation } from '../../support/invocation';

describe('dispatchRunRequests', () => {
  it('adds the valid requests of a batch to their coalescing batch and parks the invalid ones with their reason', async () => {
    const deps = fakeDeps({ t: T0 });
    const handler = makeDispatchRunRequests({ dispatch: () => Promise.resolve(deps) });
    const messages = [blobRequest(1), { schema: 'orbiter.run-request', version: 1 }, { ...blobRequest(2), dataset: 'mars' }, blobRequest(3)];
    const ctx = invocation('dispatchRunRequests', { deliveryCountArray: [1, 1, 1, 1], messageIdArray: ['m1', 'm2', 'm3', 'm4'] });
    await expect(handler(messages, ctx)).resolves.toBeUndefined();

    expect([...deps.failures.rejected.values()].map((m) => [m.messageId, m.reason])).toEqual([
      ['rejected-m2', 'InvalidRunRequest'],
      ['rejected-m3', 'InvalidRunRequest'],
    ]);
    const items = [...deps.batches.rows.values()].flatMap((b) => [...b.values()]);
    expect(items.map((i) => i.requestId).sort()).toEqual(['req-neows-1', 'req-neows-3']);
    expect(deps.scheduler.sent.map((s) => s.msg.schema)).toEqual(['orbiter.dispatch-flush']);
  });

  it('every delivery re-sends the flush of its batch under one MessageId (an earlier delivery may have stopped half-way)', async () => {
    const deps = fakeDeps({ t: T0 });
    const sends: string[] = [];
    const schedule = deps.scheduler.schedule.bind(deps.scheduler);
    deps.scheduler.schedule = (msg, at, id) => (sends.push(id), schedule(msg, at, id));
    const handler = makeDispatchRunRequests({ dispatch: () => Promise.resolve(deps) });
    await handler([blobRequest(1)], invocation('dispatchRunRequests', { deliveryCountArray: [1], messageIdArray: ['m1'] }));
    await handler([blobRequest(1)], invocation('dispatchRunRequests', { deliveryCountArray: [1], messageIdArray: ['m1'] }));
    expect(sends).toHaveLength(2);
    expect(new Set(sends).size).toBe(1);
  });

  it('a storage failure fails the whole batch (it is redelivered)', async () => {
    const deps = fakeDeps({ t: T0 });
    deps.batches.addMany = () => Promise.reject(new Error('storage down'));
    const handler = makeDispatchRunRequests({ dispatch: () => Promise.resolve(deps) });
    await expect(handler([blobRequest(1)], invocation('dispatchRunRequests', { deliveryCountArray: [1] }))).rejects.toThrow('storage down');
  });
});
