import fc from 'fast-check';
import { createRunBody } from '../../../shared/api/schemas';
import { FUNCTION_KEY, startApiHarness, type ApiHarness } from './harness';

/**
 * Random and hostile requests through the real host: never a 5xx, and a request that is not accepted (202) creates
 * no run record and no run request. A 202 only ever answers a body the request schema accepts.
 */
let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '..',
    '../../etc/passwd',
    '/etc/passwd',
    'https://evil.example/x',
    'file:///etc/passwd',
    '\u0000',
    'a\r\nX-Injected: 1',
    "' or 1 eq 1",
    '${jndi:ldap://x}',
    '__proto__',
    '%2e%2e%2f',
    'neows/../../x',
    '\\\\server\\share',
    '😀',
    'constructor',
  ),
);
const datasetish = fc.oneof(fc.constantFrom('neows', 'donki', 'eonet', 'apod', 'epic', 'fireball', 'meteorites', 'cmr'), hostileString);
const dateish = fc.oneof(
  fc.constantFrom('2024-05-01', '2024-02-30', '2030-01-01', '1900-01-01', '2024-5-1', '2024-05-01T00:00:00Z', ''),
  hostileString,
);
const inputish = fc.record(
  {
    container: fc.oneof(fc.constant('raw'), hostileString),
    path: fc.oneof(fc.constant('neows/feed/2024/05/25/x.json'), hostileString),
    etag: fc.oneof(fc.constant('0x1'), hostileString),
  },
  { requiredKeys: [] },
);
/** Bodies that look like requests but break them: wrong types, unknown fields, paths, dates, parameters. */
const nearMiss = fc.record(
  {
    dataset: datasetish,
    job: hostileString,
    parameters: fc.oneof(fc.dictionary(hostileString, fc.oneof(hostileString, fc.integer(), fc.boolean()), { maxKeys: 3 }), hostileString),
    inputs: fc.oneof(fc.array(inputish, { maxLength: 3 }), hostileString),
    from: dateish,
    to: dateish,
    extra: fc.anything({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const bodyArb = fc.oneof(
  nearMiss.map((b) => JSON.stringify(b)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1')),
  fc.constantFrom('', '{', '[[[[[[', 'null', '{"dataset":"neows"', `{"dataset":"neows","inputs":[${'{},'.repeat(300)}{}]}`),
);
const segment = fc
  .oneof(hostileString, fc.constantFrom('runs', 'health', 'openapi.json', 'cancel', '..', '.', '', 'api-x'))
  .map((s) => encodeURIComponent(s));
const pathArb = fc.oneof(
  fc.constantFrom('/api/runs', '/api/runs/', '/api/health', '/api/openapi.json'),
  segment.map((s) => `/api/runs/${s}`),
  segment.map((s) => `/api/runs/${s}/cancel`),
  fc.array(segment, { maxLength: 4 }).map((s) => `/api/${s.join('/')}`),
  fc
    .tuple(fc.constantFrom('state', 'dataset', 'since', 'limit', 'cursor', 'job', 'x', 'code'), hostileString)
    .map(([k, v]) => `/api/runs?${k}=${encodeURIComponent(v)}`),
);
const headerValue = fc.string({ maxLength: 60 }).filter((s) => /^[\x20-\x7e]*$/.test(s) && s.trim() === s);
const headersArb = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/xml',
        'multipart/form-data',
        'application/problem+json',
      ),
      headerValue,
    ),
    'idempotency-key': headerValue,
    'x-ms-client-principal': fc.oneof(
      headerValue,
      fc.json().map((j) => Buffer.from(j).toString('base64')),
    ),
    traceparent: headerValue,
    'x-correlation-id': headerValue,
  },
  { requiredKeys: [] },
);
const keyArb = fc.oneof(fc.constant(FUNCTION_KEY), fc.constant(FUNCTION_KEY), fc.constant(null), headerValue);
const methodArb = fc.constantFrom('GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH');

type Stats = Record<number, number>;
const tally = (stats: Stats, status: number) => (stats[status] = (stats[status] ?? 0) + 1);

/** Sends one request and checks the invariants; returns the status. */
async function probe(method: string, path: string, headers: Record<string, string>, body: string | undefined, key: string | null): Promise<number> {
  const before = [(await h.messages()).length, await h.recordCount()];
  const res = await h.call(method, path, { headers, key, ...(body !== undefined ? { body } : {}) });
  expect(res.status).toBeLessThan(500);
  expect(res.text).not.toContain(FUNCTION_KEY);
  if (res.status === 202) {
    // Only a body the request schema accepts can be accepted.
    expect(createRunBody.safeParse(JSON.parse(body ?? 'null')).success).toBe(true);
    return res.status;
  }
  expect([(await h.messages()).length, await h.recordCount()]).toEqual(before);
  if (res.status >= 400 && ![401, 404, 405].includes(res.status)) {
    expect(res.headers['content-type']).toBe('application/problem+json');
    const p = JSON.parse(res.text) as { status: number; instance: string };
    expect(p.status).toBe(res.status);
  }
  return res.status;
}

const seed = process.env['FC_SEED'] ? { seed: Number(process.env['FC_SEED']) } : {};

describe('Run API under random and hostile input', () => {
  it('POST /api/runs with hostile bodies and headers: never 5xx, nothing requested unless accepted', async () => {
    const stats: Stats = {};
    const jsonType = fc.oneof(
      fc.constant('application/json'),
      fc.constant('application/json'),
      fc.constant('application/json; charset=utf-8'),
      headerValue,
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, headersArb, jsonType, async (body, headers, contentType) => {
        tally(stats, await probe('POST', '/api/runs', { ...headers, 'content-type': contentType }, body, FUNCTION_KEY));
      }),
      { numRuns: 200, ...seed },
    );
    // The generator must mostly reach validation, not stop at the door.
    expect((stats[400] ?? 0) + (stats[422] ?? 0)).toBeGreaterThan(100);
  });

  it('random methods, paths, keys and headers: never 5xx, nothing requested unless accepted', async () => {
    const stats: Stats = {};
    await fc.assert(
      fc.asyncProperty(methodArb, pathArb, headersArb, bodyArb, keyArb, async (method, path, headers, body, key) => {
        tally(stats, await probe(method, path, headers, method === 'GET' ? undefined : body, key));
      }),
      { numRuns: 100, ...seed },
    );
    expect(stats[401] ?? 0).toBeGreaterThan(0);
  });

  it('a valid request among hostile headers still creates exactly one run', async () => {
    await fc.assert(
      fc.asyncProperty(headerValue, async (junk) => {
        const before = (await h.messages()).length;
        const res = await h.call('POST', '/api/runs', {
          headers: { 'content-type': 'application/json', 'x-correlation-id': junk, traceparent: junk },
          body: '{"dataset":"neows"}',
        });
        expect(res.status).toBe(202);
        expect((await h.messages()).length).toBe(before + 1);
      }),
      { numRuns: 20 },
    );
  });
});
