import type { ApiHarness } from './harness';
import { startLocalEntra, type LocalEntra } from '../../support/entraTokens';

/**
 * API_AUTH_MODE=entra through the local functions host: the functions are registered anonymous (App Service
 * authentication stands in front in Azure) and the app verifies the bearer token itself against the tenant's JWKS
 * (here a local one): none or forged → 401, wrong role → 403. A forged x-ms-client-principal is ignored.
 */
let h: ApiHarness;
let entra: LocalEntra;
beforeAll(async () => {
  entra = await startLocalEntra();
  const settings = { API_AUTH_MODE: 'entra', ENTRA_TENANT_ID: entra.tenantId, ENTRA_API_AUDIENCE: entra.audience, ENTRA_JWKS_URI: entra.jwksUri };
  // The auth level is chosen when the function definitions load, as in Azure: set the mode first, then import.
  Object.assign(process.env, settings);
  const { startApiHarness } = await import('./harness');
  h = await startApiHarness(settings);
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await entra?.stop();
  for (const k of ['API_AUTH_MODE', 'ENTRA_TENANT_ID', 'ENTRA_API_AUDIENCE', 'ENTRA_JWKS_URI']) delete process.env[k];
});

const forgedPrincipal = (roleTyp: string) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', role_typ: roleTyp, claims: [{ typ: roleTyp, val: 'Runs.Request' }] })).toString('base64');
const headers = (extra: Record<string, string> = {}) => ({ key: null, headers: { 'content-type': 'application/json', ...extra } });
const asBearer = (t: string) => headers({ authorization: `Bearer ${t}` });

describe('Run API with Entra ID tokens', () => {
  it('no token → 401 problem; a token without the role → 403; with it → the call goes through', async () => {
    const none = await h.call('GET', '/api/runs', headers());
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toBe('application/problem+json');
    expect((await h.call('GET', '/api/runs', asBearer(await entra.token({ roles: ['Other.Role'] })))).status).toBe(403);
    expect((await h.call('GET', '/api/runs', asBearer(await entra.token({ roles: ['Runs.Read'] })))).status).toBe(200);

    const before = (await h.messages()).length;
    const readerPost = await h.call('POST', '/api/runs', { ...asBearer(await entra.token({ roles: ['Runs.Read'] })), body: '{"dataset":"neows"}' });
    expect(readerPost.status).toBe(403);
    expect((await h.messages()).length).toBe(before);
    const requester = await h.call('POST', '/api/runs', { ...asBearer(await entra.token()), body: '{"dataset":"neows"}' });
    expect(requester.status).toBe(202);
    expect((await h.messages()).length).toBe(before + 1);
    expect((await h.call('GET', '/api/health', headers())).status).toBe(200);
  });

  it('attack: POST /api/runs with a forged x-ms-client-principal (roles or a forged role_typ) and no key → 401, nothing sent', async () => {
    const before = (await h.messages()).length;
    for (const typ of ['roles', 'name']) {
      const r = await h.call('POST', '/api/runs', { ...headers({ 'x-ms-client-principal': forgedPrincipal(typ) }), body: '{"dataset":"neows"}' });
      expect(r.status).toBe(401);
    }
    const expired = await entra.token({ exp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await h.call('POST', '/api/runs', { ...asBearer(expired), body: '{"dataset":"neows"}' })).status).toBe(401);
    expect((await h.call('POST', '/api/runs', { ...asBearer(await entra.token({ aud: 'api://other' })), body: '{"dataset":"neows"}' })).status).toBe(
      401,
    );
    expect((await h.messages()).length).toBe(before);
  });
});
