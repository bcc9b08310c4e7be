import { makeRunsCancel } from '../../../functions/runsCancel';
import { createRuns } from '../../../shared/api/runs';
import { mutateRun } from '../../../shared/runs/runStore';
import { apiDeps } from '../api/fakes';
import { httpRequest, invocation } from '../../support/invocation';

const cancel = (handler: ReturnType<typeof makeRunsCancel>, id: string) =>
  handler(httpRequest({ method: 'POST', url: `http://localhost:7071/api/runs/${id}/cancel`, params: { id } }), invocation('runsCancel'));

describe('runsCancel', () => {
  it('200 for a run cancelled before dispatch; 409 once it is finished', async () => {
    const { deps, cancelled } = apiDeps();
    const { body } = await createRuns({ dataset: 'neows' }, { baseUrl: 'http://localhost:7071' }, deps);
    const handler = makeRunsCancel({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) });
    const res = await cancel(handler, body.runId);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body as string)).toMatchObject({ runId: body.runId, state: 'cancelled', cancelRequested: false });
    expect((await cancel(handler, body.runId)).status).toBe(409);
    expect(cancelled).toEqual([]);
  });

  it('202 for a dispatched run: Databricks is asked to cancel it', async () => {
    const { deps, cancelled, runs } = apiDeps();
    const { body } = await createRuns({ dataset: 'neows' }, { baseUrl: 'http://localhost:7071' }, deps);
    await mutateRun(runs, body.runId, (r) => ({ ...r, state: 'dispatched', databricksRunId: 77 }));
    const handler = makeRunsCancel({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) });
    const res = await cancel(handler, body.runId);
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body as string)).toMatchObject({ cancelRequested: true });
    expect(cancelled).toEqual([77]);
  });

  it('404 for an unknown run', async () => {
    const { deps } = apiDeps();
    const handler = makeRunsCancel({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) });
    expect((await cancel(handler, 'api-nope')).status).toBe(404);
  });
});
