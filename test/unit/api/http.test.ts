import { HttpRequest, InvocationContext } from '@azure/functions';
import { runHealthChecks } from '../../../shared/api/health';
import { apiCall } from '../../../shared/api/http';
import { ApiError, problemSchema } from '../../../shared/api/problem';
import { queryObject, readJsonBody } from '../../../shared/api/request';

const url = 'http://127.0.0.1:7071/api/runs?code=secret-key';
const req = (body: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  new HttpRequest({ method: 'POST', url, headers, ...(body !== undefined ? { body: { string: body } } : {}) });
const ctx = () => new InvocationContext({ invocationId: 'inv-1', functionName: 'test', logHandler: () => undefined });

async function problemOf(request: HttpRequest, fn: () => Promise<unknown>) {
  const res = await apiCall(request, ctx(), async () => {
    await fn();
    return { status: 204 };
  });
  const headers = new Headers(res.headers);
  return { status: res.status!, type: headers.get('content-type'), body: problemSchema.parse(JSON.parse(String(res.body))) };
}

describe('readJsonBody and problem+json', () => {
  it.each([
    ['wrong content type', req('{}', { 'content-type': 'text/plain' }), 415, 'content-type'],
    ['no content type', req('{}', {}), 415, 'content-type'],
    ['form content type', req('a=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'content-type'],
    ['malformed JSON', req('{"dataset":'), 400, '(body)'],
    ['empty body', req(''), 400, '(body)'],
    ['no body', req(undefined), 400, '(body)'],
    ['oversized body', req(`{"x":"${'a'.repeat(70 * 1024)}"}`), 413, '(body)'],
    ['deeply nested JSON', req('['.repeat(60_000)), 400, '(body)'],
  ])('%s → %i problem naming %s, without the function key', async (_n, request, status, field) => {
    const p = await problemOf(request, () => readJsonBody(request));
    expect(p.status).toBe(status);
    expect(p.type).toBe('application/problem+json');
    expect(p.body).toMatchObject({ status, instance: '/api/runs' });
    expect(p.body.type).toMatch(/^urn:orbiter:problem:/);
    expect(p.body.errors?.map((e) => e.field)).toContain(field);
    expect(JSON.stringify(p.body)).not.toContain('secret-key');
  });

  it('accepts application/json with a charset', async () => {
    await expect(readJsonBody(req('{"a":1}', { 'content-type': 'Application/JSON; charset=utf-8' }))).resolves.toEqual({ a: 1 });
  });

  it('rejects invalid UTF-8', async () => {
    const request = new HttpRequest({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body: { bytes: Buffer.from([0x7b, 0xff, 0x7d]) },
    });
    await expect(readJsonBody(request)).rejects.toMatchObject({ status: 400 });
  });

  it('a repeated query parameter is a 400', () => {
    const r = new HttpRequest({ method: 'GET', url: 'http://h/api/runs?state=a&state=b' });
    expect(() => queryObject(r)).toThrow(ApiError);
  });

  it('an unexpected error is a 500 problem without internals', async () => {
    const p = await problemOf(req('{}'), () => Promise.reject(new Error('table endpoint 10.0.0.1 refused')));
    expect(p.status).toBe(500);
    expect(JSON.stringify(p.body)).not.toContain('10.0.0.1');
    expect(p.body.detail).toContain('inv-1');
  });
});

describe('runHealthChecks', () => {
  it('reports each check; a failure or timeout → 503 with a coarse reason only', async () => {
    const ok = await runHealthChecks({ a: async () => undefined, b: undefined }, '1');
    expect(ok).toMatchObject({
      status: 200,
      body: { status: 'ok', checks: { a: { status: 'ok' }, b: { status: 'skipped', reason: 'not-configured' } } },
    });
    const bad = await runHealthChecks(
      {
        a: () => Promise.reject(new Error('password=hunter2')),
        b: (signal) => new Promise((_r, rej) => signal.addEventListener('abort', () => rej(new Error('aborted')))),
      },
      '1',
      50,
    );
    expect(bad.status).toBe(503);
    expect(bad.body.checks).toMatchObject({ a: { status: 'fail', reason: 'error' }, b: { status: 'fail', reason: 'timeout' } });
    expect(JSON.stringify(bad.body)).not.toContain('hunter2');
  });
});
