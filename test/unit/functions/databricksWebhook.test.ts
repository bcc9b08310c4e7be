import { HttpRequest, type HttpRequestInit } from '@azure/functions';
import { makeDatabricksWebhook } from '../../../functions/databricksWebhook';
import { acceptRunRequest } from '../../../shared/dispatch/accept';
import { handleControl } from '../../../shared/dispatch/control';
import { blobRequest, fakeDeps, T0 } from '../../support/dispatchFakes';
import { httpRequest, invocation } from '../../support/invocation';

const URL_ = 'http://localhost:7071/api/hooks/databricks-jobs';

async function dispatchedRun() {
  const deps = fakeDeps({ t: T0 });
  await acceptRunRequest(blobRequest(1), deps);
  await handleControl(deps.scheduler.sent.shift()!.msg, deps);
  deps.scheduler.sent.length = 0;
  const rec = [...deps.runs.rows.values()][0]!.record;
  return { deps, rec, handler: makeDatabricksWebhook({ dispatch: () => Promise.resolve(deps) }) };
}

describe('databricksWebhook', () => {
  it('a notification for a known run schedules one immediate poll of it', async () => {
    const { deps, rec, handler } = await dispatchedRun();
    const res = await handler(
      httpRequest({ method: 'POST', url: URL_, json: { event_type: 'jobs.on_success', run: { run_id: String(rec.databricksRunId) } } }),
      invocation('databricksWebhook'),
    );
    expect(res).toMatchObject({ status: 202, jsonBody: { accepted: true } });
    expect(deps.scheduler.sent.map((s) => s.msg)).toEqual([
      expect.objectContaining({ schema: 'orbiter.run-poll', runId: rec.runId, databricksRunId: rec.databricksRunId, once: true }),
    ]);
  });

  it('attack: an unknown run gets the very same answer as a known one (run ids are not revealed), and schedules nothing', async () => {
    const { deps, rec, handler } = await dispatchedRun();
    const post = (runId: number) =>
      handler(
        httpRequest({ method: 'POST', url: URL_, json: { event_type: 'jobs.on_failure', run: { run_id: runId } } }),
        invocation('databricksWebhook'),
      );
    const unknown = await post(424242);
    expect(deps.scheduler.sent).toEqual([]);
    const known = await post(rec.databricksRunId!);
    expect(unknown).toEqual(known);
    expect(unknown).toMatchObject({ status: 202, jsonBody: { accepted: true } });
  });

  it("attack: a long event type (or run id) still gives a MessageId within Service Bus's 128 characters, deduplicated per event", async () => {
    const { deps, rec, handler } = await dispatchedRun();
    const event_type = `jobs.${'a'.repeat(300)}`;
    const post = () =>
      handler(
        httpRequest({ method: 'POST', url: URL_, json: { event_type, run: { run_id: rec.databricksRunId } } }),
        invocation('databricksWebhook'),
      );
    expect(await post()).toMatchObject({ status: 202 });
    await post();
    await handler(
      httpRequest({ method: 'POST', url: URL_, json: { event_type: 'jobs.on_success', run: { run_id: rec.databricksRunId } } }),
      invocation('databricksWebhook'),
    );
    const ids = deps.scheduler.sent.map((s) => s.id);
    expect(ids).toHaveLength(2); // the repeat was deduplicated, the other event was not
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(128);
  });

  it('refuses what is not a JSON notification, naming the problem', async () => {
    const { handler } = await dispatchedRun();
    const ctx = invocation('databricksWebhook');
    expect(await handler(httpRequest({ method: 'POST', url: URL_, body: 'x', headers: { 'content-type': 'text/plain' } }), ctx)).toMatchObject({
      status: 415,
    });
    expect(
      await handler(httpRequest({ method: 'POST', url: URL_, body: '{nope', headers: { 'content-type': 'application/json' } }), ctx),
    ).toMatchObject({ status: 400, jsonBody: { detail: 'body is not valid JSON' } });
    const bad = await handler(httpRequest({ method: 'POST', url: URL_, json: { event_type: 'jobs.on_success', run: { run_id: '../x' } } }), ctx);
    expect(bad).toMatchObject({ status: 400, jsonBody: { detail: expect.stringContaining('run.run_id') as string } });
  });

  it('cuts off an endless notification body while reading it: 413, nothing dispatched', async () => {
    const { deps, handler } = await dispatchedRun();
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          pulled += 16 * 1024;
          c.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const request = new HttpRequest({
      nativeRequest: new Request(URL_, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' }),
    } as unknown as HttpRequestInit);
    expect(await handler(request, invocation('databricksWebhook'))).toMatchObject({ status: 413 });
    expect(pulled).toBeLessThanOrEqual(80 * 1024);
    expect(cancelled).toBe(true);
    expect(deps.scheduler.sent).toHaveLength(0);
  });
});
