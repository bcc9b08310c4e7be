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

  it('a redelivered batch reschedules the flush of its batch (an earlier delivery may have stopped half-way)', async () => {
    const deps = fakeDeps({ t: T0 });
    const handler = makeDispatchRunRequests({ dispatch: () => Promise.resolve(deps) });
    await handler([blobRequest(1)], invocation('dispatchRunRequests', { deliveryCountArray: [1], messageIdArray: ['m1'] }));
    await handler([blobRequest(1)], invocation('dispatchRunRequests', { deliveryCountArray: [2], messageIdArray: ['m1'] }));
    const flushes = deps.scheduler.sent.filter((s) => s.msg.schema === 'orbiter.dispatch-flush');
    expect(flushes.map((f) => f.id)).toEqual([expect.not.stringContaining('redelivered'), expect.stringContaining('redelivered')]);
  });

  it('a storage failure fails the whole batch (it is redelivered)', async () => {
    const deps = fakeDeps({ t: T0 });
    deps.batches.addMany = () => Promise.reject(new Error('storage down'));
    const handler = makeDispatchRunRequests({ dispatch: () => Promise.resolve(deps) });
    await expect(handler([blobRequest(1)], invocation('dispatchRunRequests', { deliveryCountArray: [1] }))).rejects.toThrow('storage down');
  });
});
