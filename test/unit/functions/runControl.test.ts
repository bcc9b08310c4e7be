import { makeRunControl } from '../../../functions/runControl';
import { silentLogger } from '../../../shared/logger';
import { blobRequest, fakeDeps, T0 } from '../../support/dispatchFakes';
import { acceptRunRequest } from '../../../shared/dispatch/accept';
import { invocation } from '../../support/invocation';

describe('runControl', () => {
  it('a flush message turns the batch into a dispatched run, with the dispatcher ports of this invocation', async () => {
    const deps = fakeDeps({ t: T0 });
    const loggers: unknown[] = [];
    const handler = makeRunControl({ dispatch: (logger) => (loggers.push(logger), Promise.resolve(deps)) });
    for (let i = 0; i < 3; i++) await acceptRunRequest(blobRequest(i), deps);
    const flush = deps.scheduler.sent.shift()!.msg;
    await handler(flush, invocation('runControl'));
    expect(deps.jobs.runNowCalls).toBe(1);
    const runs = [...deps.runs.rows.values()].map((r) => r.record);
    expect(runs.map((r) => [r.dataset, r.state, r.inputs.length])).toEqual([['neows', 'dispatched', 3]]);
    expect(deps.scheduler.sent.map((s) => s.msg.schema)).toEqual(['orbiter.run-poll']);
    expect(loggers).toHaveLength(1);
    expect(loggers[0]).not.toBe(silentLogger);
  });

  it('rejects a message that is not a control message (the queue redelivers, then dead-letters it)', async () => {
    const deps = fakeDeps({ t: T0 });
    const handler = makeRunControl({ dispatch: () => Promise.resolve(deps) });
    await expect(handler({ schema: 'orbiter.run-poll', version: 1 }, invocation('runControl'))).rejects.toThrow(/runId/);
    expect(deps.scheduler.sent).toEqual([]);
  });

  it('a poll for an unknown run fails the invocation with NotFound', async () => {
    const deps = fakeDeps({ t: T0 });
    const handler = makeRunControl({ dispatch: () => Promise.resolve(deps) });
    const poll = { schema: 'orbiter.run-poll', version: 1, runId: 'nope', databricksRunId: 1, attempt: 1, polls: 0 };
    await expect(handler(poll, invocation('runControl'))).rejects.toMatchObject({ code: 'NotFound' });
  });
});
