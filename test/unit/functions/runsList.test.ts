import { makeRunsList } from '../../../functions/runsList';
import { createRuns } from '../../../shared/api/runs';
import { apiDeps } from '../api/fakes';
import { httpRequest, invocation } from '../../support/invocation';

describe('runsList', () => {
  it('200 with the runs the query selects; 400 for an invalid query', async () => {
    const { deps } = apiDeps();
    await createRuns({ dataset: 'neows' }, { baseUrl: 'http://localhost:7071' }, deps);
    await createRuns({ dataset: 'epic' }, { baseUrl: 'http://localhost:7071' }, deps);
    const handler = makeRunsList({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) });

    const res = await handler(httpRequest({ url: 'http://localhost:7071/api/runs?dataset=epic' }), invocation('runsList'));
    expect(res.status).toBe(200);
    const page = JSON.parse(res.body as string) as { runs: { dataset: string }[] };
    expect(page.runs.map((r) => r.dataset)).toEqual(['epic']);
    expect((await handler(httpRequest({ url: 'http://localhost:7071/api/runs?limit=0' }), invocation('runsList'))).status).toBe(400);
  });
});
