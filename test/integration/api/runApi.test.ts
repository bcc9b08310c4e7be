import { runRequestV1 } from '../../../shared/messages/runRequest';
import { Containers } from '../../../shared/names';
import { FUNCTION_KEY, startApiHarness, type ApiHarness } from './harness';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const json = { 'content-type': 'application/json' };
const post = (body: unknown, headers: Record<string, string> = {}) =>
  h.call('POST', '/api/runs', { headers: { ...json, ...headers }, body: JSON.stringify(body) });
type Created = {
  runId: string;
  statusUrl: string;
  runs: { runId: string; window?: { start: string; end: string }; inputs: number }[];
  skippedWindows?: unknown[];
};
type Problem = { type: string; title: string; status: number; detail: string; instance: string; errors?: { field: string; message: string }[] };

describe('Run API through the local functions host', () => {
  it('401 without a key or with a wrong one (empty body, as Azure); ?code= works; health and openapi are anonymous', async () => {
    expect((await h.call('GET', '/api/runs', { key: null })).status).toBe(401);
    expect((await h.call('GET', '/api/runs', { key: 'wrong-key-wrong-key' })).status).toBe(401);
    const noKeyPost = await h.call('POST', '/api/runs', { key: null, headers: json, body: '{"dataset":"neows"}' });
    expect(noKeyPost.status).toBe(401);
    expect(noKeyPost.text).toBe('');
    expect((await h.call('GET', `/api/runs?code=${FUNCTION_KEY}`, { key: null })).status).toBe(200);
    const health = await h.call('GET', '/api/health', { key: null });
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'ok',
      checks: { storage: { status: 'ok' }, serviceBus: { status: 'ok' }, databricks: { status: 'ok' } },
    });
    expect(health.text).not.toContain('fake-token');
    expect(health.text).not.toContain('127.0.0.1');
    const doc = await h.call('GET', '/api/openapi.json', { key: null });
    expect(doc.status).toBe(200);
    expect(doc.json()).toMatchObject({ openapi: '3.1.0' });
  });

  it('POST /api/runs → 202 with Location; the record is requested and exactly one run request is on the queue', async () => {
    const res = await post({ dataset: 'neows' });
    expect(res.status).toBe(202);
    const body = res.json() as Created;
    expect(res.headers['location']).toBe(body.statusUrl);
    expect(body.statusUrl).toBe(`${h.url}/api/runs/${body.runId}`);
    const rec = (await h.runs.get(body.runId))!.record;
    expect(rec).toMatchObject({ state: 'requested', origin: 'api', dataset: 'neows', jobName: 'orbiter-neows-pipeline' });
    const mine = (await h.messages()).filter((m) => m.messageId === body.runId);
    expect(mine).toHaveLength(1);
    expect(runRequestV1.parse(mine[0]!.body)).toMatchObject({ origin: 'api', runId: body.runId, dataset: 'neows' });
    const got = await h.call('GET', `/api/runs/${body.runId}`);
    expect(got.status).toBe(200);
    expect(got.json()).toMatchObject({ runId: body.runId, state: 'requested' });
  });

  it('the same Idempotency-Key twice → the same run and one message; another body with it → 409 problem', async () => {
    const before = (await h.messages()).length;
    const a = await post({ dataset: 'apod' }, { 'idempotency-key': 'order-42' });
    const b = await post({ dataset: 'apod' }, { 'idempotency-key': 'order-42' });
    expect([a.status, b.status]).toEqual([202, 202]);
    const runId = (a.json() as Created).runId;
    expect((b.json() as Created).runId).toBe(runId);
    const msgs = await h.messages();
    expect(msgs.length - before).toBe(1);
    expect(msgs.filter((m) => m.messageId === runId)).toHaveLength(1);
    const c = await post({ dataset: 'epic' }, { 'idempotency-key': 'order-42' });
    expect(c.status).toBe(409);
    expect(c.headers['content-type']).toBe('application/problem+json');
    expect((c.json() as Problem).errors?.[0]?.field).toBe('header.Idempotency-Key');
    expect((await h.messages()).length - before).toBe(1);
  });

  it('a backfill over landed blobs fans out one run per window', async () => {
    const raw = h.storage.blobs.getContainerClient(Containers.raw);
    const names = [
      'fireball/fireball/2024/03/01/2024-03-01_2024-03-30.aaaaaaaaaaaaaaaa.json',
      'fireball/fireball/2024/04/05/2024-03-31_2024-04-29.bbbbbbbbbbbbbbbb.json',
    ];
    for (const n of names) await raw.getBlockBlobClient(n).upload('[]', 2);
    const res = await post({ dataset: 'fireball', from: '2024-03-01', to: '2024-04-29' });
    expect(res.status).toBe(202);
    const body = res.json() as Created;
    expect(body.runs.map((r) => [r.window, r.inputs])).toEqual([
      [{ start: '2024-03-01', end: '2024-03-30' }, 1],
      [{ start: '2024-03-31', end: '2024-04-29' }, 1],
    ]);
    const msgs = (await h.messages()).filter((m) => body.runs.some((r) => r.runId === m.messageId));
    expect(msgs.map((m) => runRequestV1.parse(m.body).origin)).toEqual(['backfill', 'backfill']);
    // Inputs pinned to the exact version seen.
    const etag = (await raw.getBlobClient(names[0]!).getProperties()).etag!;
    expect(runRequestV1.parse(msgs[0]!.body).inputs).toEqual([{ container: 'raw', path: names[0], etag: etag.replace(/"/g, '') }]);
  });

  it('explicit inputs must exist in the raw zone at that ETag', async () => {
    const raw = h.storage.blobs.getContainerClient(Containers.raw);
    const name = 'eonet/events/2024/05/01/2024-05-01_2024-05-30.cccccccccccccccc.json';
    const up = await raw.getBlockBlobClient(name).upload('{"events":[]}', 13);
    const ok = await post({ dataset: 'eonet', inputs: [{ container: 'raw', path: name, etag: up.etag }] });
    expect(ok.status).toBe(202);
    const stale = await post({ dataset: 'eonet', inputs: [{ container: 'raw', path: name, etag: '"0x1234"' }] });
    expect(stale.status).toBe(422);
    expect((stale.json() as Problem).errors?.[0]?.field).toBe('inputs.0.etag');
  });

  it('cancel: requested → cancelled (200), again → 409; running → Databricks runs/cancel (202)', async () => {
    const runId = ((await post({ dataset: 'cmr' })).json() as Created).runId;
    const c1 = await h.call('POST', `/api/runs/${runId}/cancel`);
    expect(c1.status).toBe(200);
    expect(c1.json()).toMatchObject({ state: 'cancelled', cancelRequested: false });
    expect((await h.runs.get(runId))!.record.state).toBe('cancelled');
    const c2 = await h.call('POST', `/api/runs/${runId}/cancel`);
    expect(c2.status).toBe(409);

    const running = ((await post({ dataset: 'cmr' })).json() as Created).runId;
    const cur = (await h.runs.get(running))!;
    await h.runs.update({ ...cur.record, state: 'running', databricksRunId: 7777 }, cur.etag);
    const c3 = await h.call('POST', `/api/runs/${running}/cancel`);
    expect(c3.status).toBe(202);
    expect(h.databricks.cancels).toEqual([7777]);
    expect((await h.call('POST', '/api/runs/nope-404/cancel')).status).toBe(404);
  });

  it('lists with paging: following nextCursor visits every run exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await post({ dataset: 'meteorites' })).json() as Created).runId);
    const seen: string[] = [];
    let path: string | undefined = '/api/runs?dataset=meteorites&limit=2';
    let pages = 0;
    while (path) {
      const res = await h.call('GET', path);
      expect(res.status).toBe(200);
      const page = res.json() as { runs: { runId: string }[]; nextCursor?: string };
      expect(page.runs.length).toBeLessThanOrEqual(2);
      seen.push(...page.runs.map((r) => r.runId));
      path = page.nextCursor ? `/api/runs?dataset=meteorites&limit=2&cursor=${page.nextCursor}` : undefined;
      pages++;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen.sort()).toEqual(ids.sort());
    const filtered = await h.call('GET', '/api/runs?dataset=meteorites&state=cancelled');
    expect((filtered.json() as { runs: unknown[] }).runs).toEqual([]);
  });

  it.each([
    ['wrong content type', 'POST', '/api/runs', { 'content-type': 'text/plain' }, '{"dataset":"neows"}', 415],
    ['malformed JSON', 'POST', '/api/runs', json, '{"dataset":', 400],
    ['unknown dataset', 'POST', '/api/runs', json, '{"dataset":"mars"}', 400],
    ['oversized body', 'POST', '/api/runs', json, `{"dataset":"neows","x":"${'a'.repeat(65 * 1024)}"}`, 413],
    ['bad run id', 'GET', '/api/runs/bad%20id', {}, undefined, 400],
    ['encoded traversal id', 'GET', '/api/runs/..%2F..%2Fetc', {}, undefined, 400],
    ['unknown run', 'GET', '/api/runs/no-such-run', {}, undefined, 404],
    ['bad state', 'GET', '/api/runs?state=bogus', {}, undefined, 400],
    ['bad cursor', 'GET', '/api/runs?cursor=eyJ4IjoxfQ', {}, undefined, 400],
  ])('%s → %s %s: 4xx problem+json, nothing requested', async (_n, method, path, headers, body, status) => {
    const [msgs, recs] = [(await h.messages()).length, await h.recordCount()];
    const res = await h.call(method, path, { headers, ...(body !== undefined ? { body } : {}) });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const p = res.json() as Problem;
    expect(p).toMatchObject({ status, instance: path.split('?')[0] });
    expect(typeof p.detail).toBe('string');
    expect(res.text).not.toContain(FUNCTION_KEY);
    expect([(await h.messages()).length, await h.recordCount()]).toEqual([msgs, recs]);
  });
});
