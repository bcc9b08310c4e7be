import { makeOpenapi } from '../../../functions/openapi';
import { httpRequest, invocation } from '../../support/invocation';

describe('openapi', () => {
  it('serves the OpenAPI 3.1 document for the origin it was asked on, cacheable', async () => {
    const res = await makeOpenapi()(httpRequest({ url: 'http://localhost:7071/api/openapi.json' }), invocation('openapi'));
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'cache-control': 'public, max-age=300' });
    const doc = JSON.parse(res.body as string) as { openapi: string; paths: Record<string, unknown>; servers?: { url: string }[] };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/runs', '/api/runs/{id}', '/api/runs/{id}/cancel']));
  });
});
