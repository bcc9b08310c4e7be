import { makeRunsCreate, runsCreate } from '../../../functions/runsCreate';
import { runRequestV1 } from '../../../shared/messages/runRequest';
import { apiDeps } from '../api/fakes';
import { createEntraVerifier, type ApiAuth } from '../../../shared/api/auth';
import { startLocalEntra, type LocalEntra } from '../../support/entraTokens';
import { httpRequest, invocation } from '../../support/invocation';

const URL_ = 'http://localhost:7071/api/runs';
const principal = (roles: string[]) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: roles.map((r) => ({ typ: 'roles', val: r })) })).toString('base64');
let entra: LocalEntra;
beforeAll(async () => {
  entra = await startLocalEntra();
});
afterAll(() => entra.stop());

describe('runsCreate', () => {
  it('202 with the status URL as Location; the run is recorded and its run request sent', async () => {
    const { deps, sent, runs } = apiDeps();
    const handler = makeRunsCreate({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) });
    const res = await handler(
      httpRequest({ method: 'POST', url: URL_, json: { dataset: 'neows' }, headers: { 'x-correlation-id': 'corr-1' } }),
      invocation('runsCreate'),
    );
    expect(res.status).toBe(202);
    const body = JSON.parse(res.body as string) as { runId: string; statusUrl: string };
    expect(body.statusUrl).toBe(`${URL_}/${body.runId}`);
    expect(res.headers).toMatchObject({ location: body.statusUrl });
    expect(sent.map((s) => runRequestV1.parse(s.request))).toEqual([expect.objectContaining({ runId: body.runId, correlationId: 'corr-1' })]);
    expect((await runs.get(body.runId))?.record.state).toBe('requested');
  });

  it('the same Idempotency-Key answers with the same run', async () => {
    const { deps, sent } = apiDeps();
    const handler = makeRunsCreate({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) });
    const post = () =>
      handler(
        httpRequest({ method: 'POST', url: URL_, json: { dataset: 'neows' }, headers: { 'idempotency-key': 'k-1' } }),
        invocation('runsCreate'),
      );
    const a = JSON.parse((await post()).body as string) as { runId: string };
    const b = JSON.parse((await post()).body as string) as { runId: string };
    expect(b.runId).toBe(a.runId);
    expect(new Set(sent.map((s) => s.messageId))).toEqual(new Set([a.runId]));
  });

  it('400 problem for an invalid body, naming the field; nothing recorded', async () => {
    const { deps, sent } = apiDeps();
    const handler = makeRunsCreate({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) });
    const res = await handler(httpRequest({ method: 'POST', url: URL_, json: { dataset: 'mars' } }), invocation('runsCreate'));
    expect(res.status).toBe(400);
    expect(res.body as string).toContain('dataset');
    expect(sent).toEqual([]);
  });

  it('entra: anonymous to the host, and the caller needs the Runs.Request role', async () => {
    const { deps, sent } = apiDeps();
    const apiAuth = (): ApiAuth => ({
      mode: 'entra',
      verifier: createEntraVerifier({ tenantId: entra.tenantId, audience: entra.audience, jwksUri: entra.jwksUri }),
    });
    const trigger = runsCreate({ apiAuthMode: 'entra', apiAuth, runApi: () => Promise.resolve(deps) });
    expect(trigger.authLevel).toBe('anonymous');
    expect(runsCreate({ apiAuthMode: 'function-key', runApi: () => Promise.resolve(deps) }).authLevel).toBe('function');
    const post = (headers: Record<string, string>) =>
      trigger.handler(httpRequest({ method: 'POST', url: URL_, json: { dataset: 'neows' }, headers }), invocation('runsCreate'));
    expect((await post({})).status).toBe(401);
    // attack: a forged App Service principal is never trusted
    expect((await post({ 'x-ms-client-principal': principal(['Runs.Request']) })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${await entra.token({ roles: ['Runs.Read'] })}` })).status).toBe(403);
    expect(sent).toEqual([]);
    expect((await post({ authorization: `Bearer ${await entra.token()}` })).status).toBe(202);
    // entra mode without a verifier fails closed
    const noVerifier = runsCreate({ apiAuthMode: 'entra', runApi: () => Promise.resolve(deps) });
    const r = await noVerifier.handler(
      httpRequest({ method: 'POST', url: URL_, json: { dataset: 'neows' }, headers: { 'x-ms-client-principal': principal(['Runs.Request']) } }),
      invocation('runsCreate'),
    );
    expect(r.status).toBe(500);
    expect(sent).toHaveLength(1);
  });
});
