import { HttpRequest } from '@azure/functions';
import { generateKeyPair, type KeyLike } from 'jose';
import { ApiRoles, authorize, createEntraVerifier, type ApiAuth } from '../../../shared/api/auth';
import { assertApiAuthConfigured, loadConfig } from '../../../shared/config';
import { startLocalEntra, type LocalEntra } from '../../support/entraTokens';

// Real RS256 tokens signed by a key pair made here, verified against a JWKS served over HTTP (as Entra serves it).
let entra: LocalEntra;
let auth: ApiAuth;
let otherKey: KeyLike;
beforeAll(async () => {
  entra = await startLocalEntra();
  otherKey = (await generateKeyPair('RS256')).privateKey;
  auth = { mode: 'entra', verifier: createEntraVerifier({ tenantId: entra.tenantId, audience: entra.audience, jwksUri: entra.jwksUri }) };
});
afterAll(() => entra.stop());
const token = (o?: Parameters<LocalEntra['token']>[0]) => entra.token(o);
const req = (headers: Record<string, string>) => new HttpRequest({ method: 'POST', url: 'http://localhost/api/runs', headers });
const bearer = (t: string) => req({ authorization: `Bearer ${t}` });
const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { status?: number }) => e.status ?? 500,
  );
const forgedPrincipal = (roleTyp: string) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', role_typ: roleTyp, claims: [{ typ: roleTyp, val: ApiRoles.request }] })).toString('base64');

describe('Run API auth in entra mode (fails closed)', () => {
  it('accepts a valid token with the role and names the caller', async () => {
    const caller = await authorize(bearer(await token()), auth, [ApiRoles.request]);
    expect(caller.id).toBe('entra:caller-oid');
  });

  it('attack: a forged x-ms-client-principal (with or without a forged role_typ) and no token → 401', async () => {
    expect(await status(authorize(req({ 'x-ms-client-principal': forgedPrincipal('roles') }), auth, [ApiRoles.request]))).toBe(401);
    expect(await status(authorize(req({ 'x-ms-client-principal': forgedPrincipal('name') }), auth, [ApiRoles.request]))).toBe(401);
    expect(await status(authorize(req({}), auth, [ApiRoles.request]))).toBe(401);
  });

  it('attack: wrong signer, wrong audience, wrong issuer, other tenant, expired, alg none, garbage → 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const bad = [
      await token({ signer: otherKey }),
      await token({ aud: 'api://someone-else' }),
      await token({ iss: 'https://login.microsoftonline.com/00000000-0000-4000-8000-000000000000/v2.0' }),
      await token({ tid: '00000000-0000-4000-8000-000000000000' }),
      await token({ exp: now - 3600 }),
      await token({ kid: 'unknown' }),
    ];
    const [h, p] = (await token()).split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    bad.push(`${header}.${p}.`, `${h}.${p}.AAAA`, 'a.b.c');
    for (const t of bad) expect(await status(authorize(bearer(t), auth, [ApiRoles.request]))).toBe(401);
    expect(await status(authorize(req({ authorization: 'Basic abc' }), auth, [ApiRoles.request]))).toBe(401);
  });

  it('a valid token without the role → 403; roles must be the token’s roles claim', async () => {
    expect(await status(authorize(bearer(await token({ roles: [ApiRoles.read] })), auth, [ApiRoles.request]))).toBe(403);
    expect(await status(authorize(bearer(await token({ roles: 'Runs.Request' })), auth, [ApiRoles.request]))).toBe(403);
  });

  it('function-key mode: the host checked the key; the caller holds every role', async () => {
    expect((await authorize(req({}), { mode: 'function-key' }, [ApiRoles.operate])).roles.has(ApiRoles.operate)).toBe(true);
  });

  it('entra mode without a verifier configuration refuses to start (config error names the settings)', () => {
    const base = { OrbiterLake: 'UseDevelopmentStorage=true', API_AUTH_MODE: 'entra' };
    const { tenantId: tenant, audience } = entra;
    expect(() => loadConfig(base)).toThrow(/ENTRA_TENANT_ID: required when API_AUTH_MODE=entra[\s\S]*ENTRA_API_AUDIENCE/);
    expect(() => assertApiAuthConfigured({ API_AUTH_MODE: 'entra', ENTRA_TENANT_ID: tenant })).toThrow(/ENTRA_API_AUDIENCE/);
    expect(() => assertApiAuthConfigured({ API_AUTH_MODE: 'function-key' })).not.toThrow();
    expect(loadConfig({ ...base, ENTRA_TENANT_ID: tenant, ENTRA_API_AUDIENCE: audience }).API_AUTH_MODE).toBe('entra');
  });
});
