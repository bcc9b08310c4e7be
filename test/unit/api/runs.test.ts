import { ApiRoles } from '../../../shared/api/auth';
import { ApiError } from '../../../shared/api/problem';
import { cancelRun, createRuns, decodeCursor, encodeCursor, getRun, listRuns } from '../../../shared/api/runs';
import { runRequestV1 } from '../../../shared/messages/runRequest';
import { mutateRun } from '../../../shared/runs/runStore';
import { apiDeps } from './fakes';

const ctx = { baseUrl: 'http://127.0.0.1:7071' };
const blob = 'neows/feed/2024/05/25/2024-05-25_2024-05-31.0123456789abcdef.json';

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

const requester = { id: 'caller-a', roles: new Set<string>([ApiRoles.request]) };

describe('createRuns', () => {
  it('records one requested run and sends one run request with MessageId = runId', async () => {
    const { deps, sent, runs } = apiDeps();
    const out = await createRuns({ dataset: 'neows', parameters: { mode: 'full', max_files: 3 } }, ctx, deps);
    expect(out.status).toBe(202);
    expect(out.body.runId).toBe('api-id1');
    expect(out.body.statusUrl).toBe('http://127.0.0.1:7071/api/runs/api-id1');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.messageId).toBe('api-id1');
    const req = runRequestV1.parse(sent[0]!.request);
    expect(req).toMatchObject({ origin: 'api', runId: 'api-id1', dataset: 'neows', parameters: { mode: 'full', max_files: '3' }, inputs: [] });
    const rec = (await runs.get('api-id1'))!.record;
    expect(rec).toMatchObject({ state: 'requested', origin: 'api', jobName: 'orbiter-neows-pipeline' });
    expect(rec.idempotencyToken).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts the job name instead of the dataset', async () => {
    const { deps } = apiDeps();
    const out = await createRuns({ job: 'orbiter-epic-pipeline' }, ctx, deps);
    expect(out.body.runs[0]!.runId).toBe('api-id1');
  });

  it('checks explicit inputs against the raw zone (exists, same ETag)', async () => {
    const { deps, sent } = apiDeps({ [blob]: '"0x8DC1"' });
    const ok = await createRuns({ dataset: 'neows', inputs: [{ container: 'raw', path: blob, etag: '0x8DC1' }] }, ctx, deps);
    expect(ok.body.runs[0]!.inputs).toBe(1);
    expect(sent[0]!.request.inputs).toEqual([{ container: 'raw', path: blob, etag: '"0x8DC1"' }]);
    const changed = await rejection(createRuns({ dataset: 'neows', inputs: [{ container: 'raw', path: blob, etag: '0x9999' }] }, ctx, deps));
    expect(changed.status).toBe(422);
    expect(changed.errors).toEqual([{ field: 'inputs.0.etag', message: expect.any(String) }]);
    const missing = await rejection(
      createRuns({ dataset: 'neows', inputs: [{ container: 'raw', path: 'neows/feed/x.json', etag: '0x1' }] }, ctx, deps),
    );
    expect(missing.status).toBe(422);
    expect(missing.errors[0]!.field).toBe('inputs.0.path');
    expect(sent).toHaveLength(1);
  });

  it('same Idempotency-Key and body → the same run and no second record; a different body → 409', async () => {
    const { deps, sent, runs } = apiDeps();
    const a = await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1' }, deps);
    const b = await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1' }, deps);
    expect(b.body.runId).toBe(a.body.runId);
    expect(a.body.runId).toMatch(/^api-[0-9a-f]{32}$/);
    expect(runs.rows.size).toBe(1);
    // Re-sent while still requested, with the same MessageId: the broker's duplicate detection drops it.
    expect(new Set(sent.map((s) => s.messageId))).toEqual(new Set([a.body.runId]));
    const c = await rejection(createRuns({ dataset: 'epic' }, { ...ctx, idempotencyKey: 'k-1' }, deps));
    expect(c.status).toBe(409);
    expect(c.errors[0]!.field).toBe('header.Idempotency-Key');
    const other = await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-2' }, deps);
    expect(other.body.runId).not.toBe(a.body.runId);
  });

  it('a backfill fans out one run per window with the blobs landed in it; empty windows are skipped', async () => {
    const blobs = {
      'epic/natural/2024/05/01/2024-05-01_2024-05-01.aaaaaaaaaaaaaaaa.json': '"e1"',
      'epic/natural/2024/05/03/2024-05-03_2024-05-03.bbbbbbbbbbbbbbbb.json': '"e3"',
      'epic/natural/2024/05/09/2024-05-09_2024-05-09.cccccccccccccccc.json': '"e9"',
    };
    const { deps, sent } = apiDeps(blobs);
    const out = await createRuns({ dataset: 'epic', from: '2024-05-01', to: '2024-05-03' }, ctx, deps);
    expect(out.body.runs.map((r) => r.window)).toEqual([
      { start: '2024-05-01', end: '2024-05-01' },
      { start: '2024-05-03', end: '2024-05-03' },
    ]);
    expect(out.body.skippedWindows).toEqual([{ start: '2024-05-02', end: '2024-05-02' }]);
    expect(sent.map((s) => s.request.origin)).toEqual(['backfill', 'backfill']);
    expect(sent[0]!.request.inputs.map((i) => i.path)).toEqual([Object.keys(blobs)[0]]);
    expect(sent[1]!.request.window).toEqual({ start: '2024-05-03', end: '2024-05-03' });
    // DONKI windows are 30 days, like its ingestion.
    const d = apiDeps({
      'donki/FLR/2024/05/01/2024-05-01_2024-05-30.aaaaaaaaaaaaaaaa.json': '"d"',
      'donki/CME/2024/06/02/2024-05-31_2024-06-09.aaaaaaaaaaaaaaaa.json': '"d2"',
    });
    const two = await createRuns({ dataset: 'donki', from: '2024-05-01', to: '2024-06-09' }, ctx, d.deps);
    expect(two.body.runs.map((r) => r.window)).toEqual([
      { start: '2024-05-01', end: '2024-05-30' },
      { start: '2024-05-31', end: '2024-06-09' },
    ]);
  });

  it.each([
    ['not an object', 'x', '(body)'],
    ['array', [], '(body)'],
    ['missing dataset', {}, 'dataset'],
    ['unknown dataset', { dataset: 'mars' }, 'dataset'],
    ['dataset not in the catalog', { dataset: 'apod' }, 'dataset'],
    ['unknown job', { job: 'rm -rf' }, 'job'],
    ['job of another dataset', { dataset: 'neows', job: 'orbiter-epic-pipeline' }, 'job'],
    ['unknown field', { dataset: 'neows', script: 'x' }, 'script'],
    ['parameter not allowed', { dataset: 'neows', parameters: { lake_root: '/etc' } }, 'parameters.lake_root'],
    ['parameter outside its enum', { dataset: 'neows', parameters: { mode: 'drop' } }, 'parameters.mode'],
    ['parameter out of range', { dataset: 'neows', parameters: { max_files: 99 } }, 'parameters.max_files'],
    ['parameter of a dataset without any', { dataset: 'epic', parameters: { mode: 'full' } }, 'parameters.mode'],
    ['bad date', { dataset: 'neows', from: '2024-02-30', to: '2024-03-01' }, 'from'],
    ['date with time', { dataset: 'neows', from: '2024-02-01T00:00:00Z', to: '2024-03-01' }, 'from'],
    ['from without to', { dataset: 'neows', from: '2024-02-01' }, 'to'],
    ['from after to', { dataset: 'neows', from: '2024-03-02', to: '2024-03-01' }, 'from'],
    ['to in the future', { dataset: 'neows', from: '2024-06-01', to: '2024-06-11' }, 'to'],
    ['range too long', { dataset: 'neows', from: '2022-01-01', to: '2024-01-01' }, 'to'],
    ['too many windows', { dataset: 'epic', from: '2024-01-01', to: '2024-05-01' }, 'to'],
    [
      'inputs and range',
      { dataset: 'neows', from: '2024-05-01', to: '2024-05-02', inputs: [{ container: 'raw', path: blob, etag: '0x1' }] },
      'inputs',
    ],
    ['empty inputs', { dataset: 'neows', inputs: [] }, 'inputs'],
    ['input in another container', { dataset: 'neows', inputs: [{ container: 'gold', path: blob, etag: '0x1' }] }, 'inputs.0.container'],
    ['input of another dataset', { dataset: 'neows', inputs: [{ container: 'raw', path: 'epic/natural/x.json', etag: '0x1' }] }, 'inputs.0.path'],
    ['dot-dot path', { dataset: 'neows', inputs: [{ container: 'raw', path: 'neows/../epic/x.json', etag: '0x1' }] }, 'inputs.0.path'],
    ['absolute path', { dataset: 'neows', inputs: [{ container: 'raw', path: '/neows/x.json', etag: '0x1' }] }, 'inputs.0.path'],
    ['URL', { dataset: 'neows', inputs: [{ container: 'raw', path: 'https://evil.example/neows/x', etag: '0x1' }] }, 'inputs.0.path'],
    ['control character', { dataset: 'neows', inputs: [{ container: 'raw', path: 'neows/a\nb.json', etag: '0x1' }] }, 'inputs.0.path'],
    ['encoded traversal', { dataset: 'neows', inputs: [{ container: 'raw', path: 'neows/%2e%2e/x', etag: '0x1' }] }, 'inputs.0.path'],
    ['bad etag', { dataset: 'neows', inputs: [{ container: 'raw', path: blob, etag: 'a b' }] }, 'inputs.0.etag'],
    ['too many inputs', { dataset: 'neows', inputs: Array.from({ length: 101 }, () => ({ container: 'raw', path: blob, etag: '0x1' })) }, 'inputs'],
  ])('rejects %s with a 4xx naming the field, and requests nothing', async (_name, body, field) => {
    const { deps, sent, runs, idempotency } = apiDeps({ [blob]: '"0x1"' });
    const err = await rejection(createRuns(body, { ...ctx, idempotencyKey: 'k' }, deps));
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.status).toBeLessThan(500);
    expect(err.errors.map((e) => e.field)).toContain(field);
    expect(sent).toHaveLength(0);
    expect(runs.rows.size).toBe(0);
    expect(idempotency.entries.size).toBe(0);
  });

  it('a backfill over a range with no landed data is a 422, not an empty success', async () => {
    const { deps, sent } = apiDeps();
    const err = await rejection(createRuns({ dataset: 'neows', from: '2024-05-01', to: '2024-05-20' }, ctx, deps));
    expect(err.status).toBe(422);
    expect(sent).toHaveLength(0);
  });

  it.each([['a'.repeat(201)], ['has space'], ['tab\there'], ['']])('rejects the Idempotency-Key %j', async (key) => {
    const { deps, sent } = apiDeps();
    const err = await rejection(createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: key }, deps));
    expect(err.status).toBe(400);
    expect(err.errors[0]!.field).toBe('header.Idempotency-Key');
    expect(sent).toHaveLength(0);
  });
});

describe('getRun / listRuns / cancelRun', () => {
  it('reads a run; unknown → 404; a bad id → 400 naming id', async () => {
    const { deps } = apiDeps();
    const { body } = await createRuns({ dataset: 'neows' }, ctx, deps);
    const view = await getRun(body.runId, ctx.baseUrl, deps);
    expect(view).toMatchObject({ runId: body.runId, state: 'requested', statusUrl: body.statusUrl });
    expect(view).not.toHaveProperty('idempotencyToken');
    expect((await rejection(getRun('nope', ctx.baseUrl, deps))).status).toBe(404);
    for (const bad of ['../x', 'a/b', 'x'.repeat(101), '', 'a b', 'é']) {
      const e = await rejection(getRun(bad, ctx.baseUrl, deps));
      expect(e.status).toBe(400);
      expect(e.errors[0]!.field).toBe('id');
    }
  });

  it('lists a page newest first by request time, whatever the run ids', async () => {
    const { deps, runs } = apiDeps();
    const ids: string[] = [];
    for (const dataset of ['neows', 'epic', 'donki'] as const) ids.push((await createRuns({ dataset }, ctx, deps)).body.runId);
    const times = ['2024-06-10T12:00:02.000Z', '2024-06-10T12:00:01.000Z', '2024-06-10T12:00:03.000Z'];
    for (const [i, id] of ids.entries()) await mutateRun(runs, id, (r) => ({ ...r, requestedAt: times[i]! }));
    const page = await listRuns({}, ctx.baseUrl, deps);
    expect(page.runs.map((r) => r.requestedAt)).toEqual(['2024-06-10T12:00:03.000Z', '2024-06-10T12:00:02.000Z', '2024-06-10T12:00:01.000Z']);
  });

  it('lists with filters and rejects bad query values and unknown parameters', async () => {
    const { deps } = apiDeps();
    await createRuns({ dataset: 'neows' }, ctx, deps);
    await createRuns({ dataset: 'epic' }, ctx, deps);
    const page = await listRuns({ dataset: 'epic', limit: '10', code: 'ignored' }, ctx.baseUrl, deps);
    expect(page.runs.map((r) => r.dataset)).toEqual(['epic']);
    for (const [q, field] of [
      [{ state: 'exploded' }, 'query.state'],
      [{ dataset: 'mars' }, 'query.dataset'],
      [{ limit: '0' }, 'query.limit'],
      [{ limit: '1000' }, 'query.limit'],
      [{ limit: 'ten' }, 'query.limit'],
      [{ since: 'yesterday' }, 'query.since'],
      [{ since: '2024-13-45' }, 'query.since'],
      [{ job: "x' or 1 eq 1" }, 'query.job'],
      [{ cursor: '!!' }, 'query.cursor'],
      [{ cursor: 'abcd' }, 'query.cursor'],
      [{ filter: 'x' }, 'query.filter'],
    ] as const) {
      const e = await rejection(listRuns(q, ctx.baseUrl, deps));
      expect(e.status).toBe(400);
      expect(e.errors.map((x) => x.field)).toContain(field);
    }
  });

  it('cursors round-trip the table continuation token and reject tampering', () => {
    const token = Buffer.from(JSON.stringify({ nextPartitionKey: 'api-1', nextRowKey: 'run' })).toString('base64');
    expect(decodeCursor(encodeCursor(token))).toBe(token);
    const evil = Buffer.from(JSON.stringify({ nextPartitionKey: 'a\r\nx: y' })).toString('base64url');
    expect(() => decodeCursor(evil)).toThrow(ApiError);
  });

  it('cancels a requested run in its record, a running one in Databricks, and refuses a finished one', async () => {
    const { deps, cancelled, runs } = apiDeps();
    const a = (await createRuns({ dataset: 'neows' }, ctx, deps)).body.runId;
    const first = await cancelRun(a, ctx.baseUrl, deps, requester);
    expect(first).toMatchObject({ status: 200, body: { state: 'cancelled', cancelRequested: false } });
    expect((await runs.get(a))!.record.state).toBe('cancelled');
    expect((await rejection(cancelRun(a, ctx.baseUrl, deps, requester))).status).toBe(409);

    const b = (await createRuns({ dataset: 'neows' }, ctx, deps)).body.runId;
    const cur = (await runs.get(b))!;
    await runs.update({ ...cur.record, state: 'running', databricksRunId: 42 }, cur.etag);
    const second = await cancelRun(b, ctx.baseUrl, deps, requester);
    expect(second).toMatchObject({ status: 202, body: { state: 'running', cancelRequested: true } });
    expect(cancelled).toEqual([42]);

    const c = (await createRuns({ dataset: 'neows' }, ctx, deps)).body.runId;
    const cc = (await runs.get(c))!;
    await runs.update({ ...cc.record, state: 'dispatched' }, cc.etag);
    expect((await rejection(cancelRun(c, ctx.baseUrl, deps, requester))).status).toBe(409);
    expect((await rejection(cancelRun('missing', ctx.baseUrl, deps, requester))).status).toBe(404);
    expect((await rejection(cancelRun('../etc', ctx.baseUrl, deps, requester))).status).toBe(400);
  });

  it('attack: Idempotency-Keys are scoped per caller — the same key from another caller is a new request, not a replay or a 409', async () => {
    const { deps } = apiDeps();
    const a = await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1', callerId: 'entra:a' }, deps);
    const b = await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1', callerId: 'entra:b' }, deps);
    expect(b.body.runId).not.toBe(a.body.runId);
    const again = await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1', callerId: 'entra:a' }, deps);
    expect(again.body.runId).toBe(a.body.runId);
  });

  it('an Idempotency-Key expires: it replays its first request for idempotencyTtlMs, then starts new runs (one, however many race)', async () => {
    const { deps, runs } = apiDeps();
    const t0 = Date.parse('2024-06-10T12:00:00Z');
    let now = t0;
    deps.now = () => new Date(now);
    const hour = 3_600_000;
    const first = await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1' }, deps);
    now = t0 + 24 * hour - 1;
    expect((await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1' }, deps)).body.runId).toBe(first.body.runId);
    now = t0 + 24 * hour;
    // Two requests with the expired key at once: one claims its next generation, the other replays that claim.
    const [x, y] = await Promise.all([
      createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1' }, deps),
      createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1' }, deps),
    ]);
    expect(x.body.runId).not.toBe(first.body.runId);
    expect(y.body.runId).toBe(x.body.runId);
    expect(runs.rows.size).toBe(2);
    // The new claim is live: replayed, and a different request with the key is a 409 again.
    now = t0 + 25 * hour;
    expect((await createRuns({ dataset: 'neows' }, { ...ctx, idempotencyKey: 'k-1' }, deps)).body.runId).toBe(x.body.runId);
    expect((await rejection(createRuns({ dataset: 'epic' }, { ...ctx, idempotencyKey: 'k-1' }, deps))).status).toBe(409);
    // Once expired, the key may carry a different request.
    now = t0 + 48 * hour;
    const other = await createRuns({ dataset: 'epic' }, { ...ctx, idempotencyKey: 'k-1' }, deps);
    expect(new Set([first.body.runId, x.body.runId, other.body.runId]).size).toBe(3);
  });

  it('attack: a Runs.Request caller cannot cancel an ingestion (blob-landed) run; an operator can', async () => {
    const { deps, runs } = apiDeps();
    const id = (await createRuns({ dataset: 'neows' }, ctx, deps)).body.runId;
    const cur = (await runs.get(id))!;
    await runs.update({ ...cur.record, origin: 'blob-landed' }, cur.etag);
    const e = await rejection(cancelRun(id, ctx.baseUrl, deps, requester));
    expect(e.status).toBe(403);
    expect((await runs.get(id))!.record.state).toBe('requested');
    const operator = { id: 'op', roles: new Set([ApiRoles.operate]) };
    // Still requested (its flush is dispatching it): cancelling now would strand its landed files, so: retry shortly.
    const early = await rejection(cancelRun(id, ctx.baseUrl, deps, operator));
    expect(early).toMatchObject({ status: 409, slug: 'run-not-cancellable', headers: { 'retry-after': '2' } });
    expect(early.message).toMatch(/ingestion run .* is being dispatched; retry shortly/);
    expect((await runs.get(id))!.record.state).toBe('requested');
    const now = (await runs.get(id))!;
    await runs.update({ ...now.record, state: 'dispatched', databricksRunId: 7 }, now.etag);
    expect(await cancelRun(id, ctx.baseUrl, deps, operator)).toMatchObject({ status: 202, body: { cancelRequested: true } });
  });
});
