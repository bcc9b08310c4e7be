import type { ApiHarness } from './harness';

/**
 * API_AUTH_MODE=entra: the functions are registered anonymous (App Service authentication stands in front) and the
 * handlers check the caller's app roles from x-ms-client-principal: none → 401, wrong role → 403.
 */
let h: ApiHarness;
beforeAll(async () => {
  // The auth level is chosen when the function definitions load, as in Azure: set the mode first, then import.
  process.env['API_AUTH_MODE'] = 'entra';
  const { startApiHarness } = await import('./harness');
  h = await startApiHarness({ API_AUTH_MODE: 'entra' });
}, 60_000);
afterAll(async () => {
  await h?.stop();
  delete process.env['API_AUTH_MODE'];
});

const principal = (...roles: string[]) =>
  Buffer.from(
    JSON.stringify({
      auth_typ: 'aad',
      name_typ: 'name',
      role_typ: 'roles',
      claims: [{ typ: 'name', val: 'ada' }, ...roles.map((val) => ({ typ: 'roles', val }))],
    }),
  ).toString('base64');
const asCaller = (p?: string) => ({ key: null, headers: { 'content-type': 'application/json', ...(p ? { 'x-ms-client-principal': p } : {}) } });

describe('Run API with Entra ID app roles', () => {
  it('no principal → 401, a principal without the role → 403, with it → the call goes through', async () => {
    const none = await h.call('GET', '/api/runs', asCaller());
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toBe('application/problem+json');
    expect((await h.call('GET', '/api/runs', asCaller('garbage'))).status).toBe(401);
    expect((await h.call('GET', '/api/runs', asCaller(principal('Other.Role')))).status).toBe(403);
    expect((await h.call('GET', '/api/runs', asCaller(principal('Runs.Read')))).status).toBe(200);

    const before = (await h.messages()).length;
    const readerPost = await h.call('POST', '/api/runs', { ...asCaller(principal('Runs.Read')), body: '{"dataset":"neows"}' });
    expect(readerPost.status).toBe(403);
    expect((await h.messages()).length).toBe(before);
    const requester = await h.call('POST', '/api/runs', { ...asCaller(principal('Runs.Request')), body: '{"dataset":"neows"}' });
    expect(requester.status).toBe(202);
    expect((await h.messages()).length).toBe(before + 1);
    expect((await h.call('GET', '/api/health', asCaller())).status).toBe(200);
  });
});
