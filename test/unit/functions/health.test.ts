import { makeHealth } from '../../../functions/health';
import { httpRequest, invocation } from '../../support/invocation';

const req = () => httpRequest({ url: 'http://localhost:7071/api/health' });

describe('health', () => {
  it('200 when every configured peer answers; unconfigured ones are skipped', async () => {
    const handler = makeHealth({
      healthProbes: () => ({ storage: () => Promise.resolve(), serviceBus: () => Promise.resolve(), databricks: undefined }),
    });
    const res = await handler(req(), invocation('health'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body as string)).toMatchObject({
      status: 'ok',
      checks: { storage: { status: 'ok' }, serviceBus: { status: 'ok' }, databricks: { status: 'skipped', reason: 'not-configured' } },
    });
  });

  it('503 naming the failed check, without its error message', async () => {
    const handler = makeHealth({
      healthProbes: () => ({
        storage: () => Promise.resolve(),
        serviceBus: () => Promise.reject(new Error('secret-host.servicebus')),
        databricks: undefined,
      }),
    });
    const res = await handler(req(), invocation('health'));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body as string)).toMatchObject({ status: 'degraded', checks: { serviceBus: { status: 'fail', reason: 'error' } } });
    expect(res.body as string).not.toContain('secret-host');
  });
});
