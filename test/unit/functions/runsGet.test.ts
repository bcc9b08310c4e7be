import { makeRunsGet } from '../../../functions/runsGet';
import { apiDeps } from '../api/fakes';
import { httpRequest, invocation } from '../../support/invocation';
import { createRuns } from '../../../shared/api/runs';

describe('runsGet', () => {
  it('200 with the run view; 404 problem for an unknown run; 400 for an invalid id', async () => {
    const { deps } = apiDeps();
    const { body } = await createRuns({ dataset: 'neows' }, { baseUrl: 'http://localhost:7071' }, deps);
    const handler = makeRunsGet({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) });
    const get = (id: string) => handler(httpRequest({ url: `http://localhost:7071/api/runs/${id}`, params: { id } }), invocation('runsGet'));

    const ok = await get(body.runId);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body as string)).toMatchObject({ runId: body.runId, state: 'requested', statusUrl: body.statusUrl });
    const missing = await get('api-nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body as string)).toMatchObject({ status: 404 });
    expect((await get('bad id!')).status).toBe(400);
  });
});
