/** Issue 16 item 4: no quota — 200 concurrent POST /api/runs were all accepted in 1.9 s. */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { apiCall, json } from '../../../shared/api/http';
import { problemSchema } from '../../../shared/api/problem';
import { BucketRunQuota, MemoryBucketStore, TableBucketStore, takeTokens } from '../../../shared/api/quota';
import { createRuns } from '../../../shared/api/runs';
import { IDEMPOTENCY_TABLE } from '../../../shared/api/idempotency';
import { createStorageClients } from '../../../shared/storage/clients';
import { startTestAzurite } from '../../support/azurite';
import { testConfig } from '../../support/config';
import { apiDeps } from './fakes';

jest.setTimeout(90_000);

const http = new HttpRequest({ method: 'POST', url: 'http://127.0.0.1:7071/api/runs?code=k', headers: { 'content-type': 'application/json' } });
const ctx = () => new InvocationContext({ invocationId: 'inv', functionName: 'runsCreate', logHandler: () => undefined });

/** POST /api/runs as the handler answers it: the status, Retry-After and the problem when refused. */
async function post(body: unknown, deps: ReturnType<typeof apiDeps>['deps'], callerId = 'caller-a') {
  const res = await apiCall(http, ctx(), async () => {
    const out = await createRuns(body, { baseUrl: 'http://h', callerId }, deps);
    return json(out.status, out.body);
  });
  const headers = new Headers(res.headers);
  return {
    status: res.status!,
    retryAfter: headers.get('retry-after'),
    type: headers.get('content-type'),
    body: JSON.parse(String(res.body)) as unknown,
  };
}

describe('Run API quota', () => {
  it('the token bucket refills continuously up to one minute of quota', () => {
    const t0 = 1_000_000;
    const a = takeTokens(undefined, 1, 60, t0);
    expect(a).toEqual({ ok: true, bucket: { tokens: 59, at: t0 } });
    expect(takeTokens({ tokens: 0.5, at: t0 }, 1, 60, t0)).toEqual({ ok: false, retryAfterS: 1 });
    expect(takeTokens({ tokens: 0, at: t0 }, 30, 60, t0)).toEqual({ ok: false, retryAfterS: 30 });
    expect(takeTokens({ tokens: 0, at: t0 }, 1, 60, t0 + 3_600_000)).toEqual({ ok: true, bucket: { tokens: 59, at: t0 + 3_600_000 } });
  });

  it('200 concurrent POSTs from one caller: 120 accepted, the rest 429 problem+json with Retry-After; another caller is unaffected', async () => {
    const { deps, sent } = apiDeps();
    const results = await Promise.all(Array.from({ length: 200 }, () => post({ dataset: 'neows' }, deps)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(120);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(80);
    for (const r of refused) {
      expect(r.type).toBe('application/problem+json');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(problemSchema.parse(r.body)).toMatchObject({ status: 429, type: 'urn:orbiter:problem:rate-limited' });
    }
    expect(sent).toHaveLength(120); // nothing recorded or sent for a refused request
    expect((await post({ dataset: 'neows' }, deps, 'caller-b')).status).toBe(202);
  });

  it('a backfill counts one run per window against the quota, and one larger than the quota is refused as such', async () => {
    const { deps } = apiDeps({ 'epic/natural/2024/05/01/2024-05-01_2024-05-01.aaaaaaaaaaaaaaaa.json': '"e1"' });
    deps.quota = new BucketRunQuota(new MemoryBucketStore(), 30, deps.now);
    expect((await post({ dataset: 'epic', from: '2024-05-01', to: '2024-05-20' }, deps)).status).toBe(202); // 20 windows
    const next = await post({ dataset: 'epic', from: '2024-05-01', to: '2024-05-20' }, deps);
    expect(next.status).toBe(429);
    expect(Number(next.retryAfter)).toBe(20); // 10 tokens left, 20 needed at 0.5 per second
    const big = await post({ dataset: 'epic', from: '2024-05-01', to: '2024-06-09' }, deps, 'caller-c'); // 40 windows
    expect(big.status).toBe(422);
    expect(problemSchema.parse(big.body).type).toBe('urn:orbiter:problem:over-quota');
  });

  describe('buckets in table storage (Azurite), shared by instances', () => {
    let az: Awaited<ReturnType<typeof startTestAzurite>>;
    beforeAll(async () => {
      az = await startTestAzurite();
    });
    afterAll(async () => {
      await az?.stop();
    });

    it('two instances charging one caller concurrently accept the quota once between them', async () => {
      const storage = createStorageClients(testConfig({ OrbiterLake: az.connectionString }));
      const now = () => new Date('2026-12-01T00:00:00Z');
      const instances = [0, 1].map(() => new BucketRunQuota(new TableBucketStore(storage.table(IDEMPOTENCY_TABLE)), 20, now));
      const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => instances[i % 2]!.charge('caller-a', 1)));
      const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
      // Conflicting writes are retried a few times, then told to retry: never more than the quota accepted.
      expect(ok).toBeLessThanOrEqual(20);
      expect(ok).toBeGreaterThan(0);
      for (let i = ok; i < 20; i++) await instances[0]!.charge('caller-a', 1);
      await expect(instances[1]!.charge('caller-a', 1)).rejects.toMatchObject({ status: 429 });
      await expect(instances[1]!.charge('caller-b', 1)).resolves.toBeUndefined();
    });
  });
});
