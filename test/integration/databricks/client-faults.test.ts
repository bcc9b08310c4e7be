import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabricksApiError, DatabricksJobsClient, PatTokenProvider, WorkspaceRateBudget, type TokenProvider } from '../../../shared/databricks';

jest.setTimeout(30_000);

type Step = { status: number; body?: unknown; raw?: string; headers?: Record<string, string> } | { action: 'reset' } | { action: 'hang' };

interface Seen {
  method: string;
  path: string;
  auth: string | undefined;
  body: string;
}

/** An HTTP server that answers each path from a script of steps (the last step repeats). */
class ScriptedServer {
  readonly seen: Seen[] = [];
  private readonly scripts = new Map<string, Step[]>();
  private readonly hung: ServerResponse[] = [];
  private server!: Server;
  url = '';

  script(path: string, steps: Step[]): void {
    this.scripts.set(path, [...steps]);
  }

  count(path: string): number {
    return this.seen.filter((s) => s.path === path).length;
  }

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        this.seen.push({ method: req.method ?? '', path, auth: req.headers.authorization, body: Buffer.concat(chunks).toString() });
        const steps = this.scripts.get(path) ?? [{ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND', message: 'no script' } }];
        const step = steps.length > 1 ? steps.shift()! : steps[0]!;
        if ('action' in step) {
          if (step.action === 'reset') req.socket.destroy();
          else this.hung.push(res);
          return;
        }
        const text = step.raw ?? JSON.stringify(step.body ?? {});
        res.writeHead(step.status, { 'Content-Type': 'application/json', ...step.headers });
        res.end(text);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const RUN = { run_id: 7, job_id: 3, state: { life_cycle_state: 'RUNNING' }, status: { state: 'RUNNING' } };
const GET = '/api/2.2/jobs/runs/get';
const RUN_NOW = '/api/2.2/jobs/run-now';

describe('Jobs API client against a scripted server (throttling, failures, bad bodies, timeouts)', () => {
  let server: ScriptedServer;
  let waits: number[];

  beforeEach(async () => {
    server = new ScriptedServer();
    await server.start();
    waits = [];
  });
  afterEach(() => server.stop());

  /** A client whose backoff waits are recorded and skipped, so Retry-After is asserted exactly without sleeping. */
  const client = (over: Partial<ConstructorParameters<typeof DatabricksJobsClient>[0]> = {}): DatabricksJobsClient =>
    new DatabricksJobsClient({
      host: server.url,
      tokenProvider: new PatTokenProvider('dapi-test'),
      retryPolicy: { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 1000 },
      random: () => 0.5,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      timeoutMs: 2000,
      ...over,
    });

  it('rides out a 429 storm, waiting at least Retry-After (seconds and HTTP date) each time', async () => {
    const inTwoSeconds = new Date(Date.now() + 2500).toUTCString();
    server.script(GET, [
      { status: 429, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, headers: { 'Retry-After': '3' } },
      { status: 429, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, headers: { 'Retry-After': inTwoSeconds } },
      { status: 429, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' } },
      { status: 200, body: { ...RUN, some_future_field: { x: 1 } } },
    ]);
    const run = await client().getRun(7);
    expect(run).toMatchObject({ run_id: 7, state: { life_cycle_state: 'RUNNING' } });
    expect(server.count(GET)).toBe(4);
    expect(waits[0]).toBe(3000);
    expect(waits[1]).toBeGreaterThanOrEqual(1000); // HTTP date: whole seconds, measured from now
    expect(waits[1]).toBeLessThanOrEqual(2500);
    expect(waits[2]).toBe(200); // no Retry-After: own backoff, 100 * 2^2 * 0.5
    expect(server.seen.every((s) => s.auth === 'Bearer dapi-test')).toBe(true);
  });

  it('gives up after maxRetries with a retryable JobsApiThrottled error carrying Retry-After', async () => {
    server.script(GET, [{ status: 429, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'no' }, headers: { 'Retry-After': '1' } }]);
    const err = await client({ retryPolicy: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 10 } })
      .getRun(7)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabricksApiError);
    expect(err).toMatchObject({
      code: 'JobsApiThrottled',
      retryable: true,
      status: 429,
      retryAfterMs: 1000,
      databricksErrorCode: 'REQUEST_LIMIT_EXCEEDED',
    });
    expect(server.count(GET)).toBe(3);
    expect(waits).toEqual([1000, 1000]);
  });

  it('retries 5xx on reads and on run-now with an idempotency token, never on run-now without one', async () => {
    server.script(GET, [
      { status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'oops' } },
      { status: 503, raw: '<html>bad gateway</html>' },
      { status: 200, body: RUN },
    ]);
    expect((await client().getRun(7)).run_id).toBe(7);
    expect(server.count(GET)).toBe(3);

    server.script(RUN_NOW, [{ status: 502, raw: 'upstream' }]);
    const err = await client()
      .runNow({ job_id: 3 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'JobsApiError', kind: 'server', status: 502, retryable: true });
    expect(server.count(RUN_NOW)).toBe(1); // a retry could start a second run

    server.script(RUN_NOW, [
      { status: 500, body: {} },
      { status: 200, body: { run_id: 11, number_in_job: 11 } },
    ]);
    expect(await client().runNow({ job_id: 3, idempotency_token: 'tok-1' })).toEqual({ run_id: 11, number_in_job: 11 });
    expect(server.count(RUN_NOW)).toBe(3);
    expect(JSON.parse(server.seen[server.seen.length - 1]!.body)).toEqual({ job_id: 3, idempotency_token: 'tok-1' });

    // 429 proves the request was refused, so even an unprotected run-now may retry.
    server.script(RUN_NOW, [
      { status: 429, body: {} },
      { status: 200, body: { run_id: 12 } },
    ]);
    expect((await client().runNow({ job_id: 3 })).run_id).toBe(12);
  });

  it('treats malformed JSON as retryable and a wrong shape as not retryable', async () => {
    server.script(GET, [
      { status: 200, raw: '{"run_id": 7, "state": ' },
      { status: 200, body: RUN },
    ]);
    expect((await client().getRun(7)).run_id).toBe(7);
    expect(server.count(GET)).toBe(2);

    server.script(GET, [{ status: 200, raw: 'not json at all' }]);
    await expect(client({ retryPolicy: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 } }).getRun(7)).rejects.toMatchObject({
      kind: 'malformed-response',
      retryable: true,
    });

    const before = server.count(GET);
    server.script(GET, [{ status: 200, body: { job_id: 3, state: { life_cycle_state: 'RUNNING' } } }]);
    const err = await client()
      .getRun(7)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'JobsApiError', kind: 'unexpected-response', retryable: false });
    expect((err as Error).message).toMatch(/run_id/);
    expect(server.count(GET) - before).toBe(1);
  });

  it('times out hung requests and retries them; recovers from connection resets', async () => {
    server.script(GET, [{ action: 'hang' }, { status: 200, body: RUN }]);
    const started = Date.now();
    expect((await client({ timeoutMs: 200 }).getRun(7)).run_id).toBe(7);
    expect(Date.now() - started).toBeLessThan(5000);

    server.script(GET, [{ action: 'hang' }]);
    await expect(client({ timeoutMs: 100, retryPolicy: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 } }).getRun(7)).rejects.toMatchObject({
      code: 'JobsApiError',
      kind: 'timeout',
      retryable: true,
    });

    server.script(GET, [{ action: 'reset' }, { action: 'reset' }, { status: 200, body: RUN }]);
    const before = server.count(GET);
    expect((await client().getRun(7)).run_id).toBe(7);
    expect(server.count(GET) - before).toBe(3);
  });

  it('stops when aborted, including during a backoff wait', async () => {
    server.script(GET, [{ status: 503, body: {} }]);
    const controller = new AbortController();
    const realSleepClient = client({ sleep: undefined, retryPolicy: { maxRetries: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const pending = realSleepClient.getRun(7, {}, { abortSignal: controller.signal });
    // Wait for the first attempt to be answered, then abort the long backoff.
    for (let i = 0; i < 500 && server.count(GET) === 0; i++) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'aborted', retryable: false });
    expect(server.count(GET)).toBe(1);
  });

  it('refreshes the token once on 401 when the provider can, then reports Unauthorized', async () => {
    let n = 0;
    const provider: TokenProvider = { getToken: () => Promise.resolve(`token-${++n}`), invalidate: jest.fn() };
    server.script(GET, [
      { status: 401, body: { error_code: 'UNAUTHENTICATED', message: 'expired' } },
      { status: 200, body: RUN },
    ]);
    expect((await client({ tokenProvider: provider }).getRun(7)).run_id).toBe(7);
    expect(provider.invalidate).toHaveBeenCalledTimes(1);
    expect(server.seen.map((s) => s.auth)).toEqual(['Bearer token-1', 'Bearer token-2']);

    server.script(GET, [{ status: 403, body: { error_code: 'PERMISSION_DENIED', message: 'no' } }]);
    await expect(client().getRun(7)).rejects.toMatchObject({ code: 'Forbidden', retryable: false, databricksErrorCode: 'PERMISSION_DENIED' });
  });

  it('spaces calls by the workspace rate budget', async () => {
    server.script(RUN_NOW, [{ status: 200, body: { run_id: 1 } }]);
    const budgetWaits: number[] = [];
    let now = 0;
    const budget = new WorkspaceRateBudget({
      runNowPerSecond: 2,
      now: () => now,
      sleep: (ms) => (budgetWaits.push(ms), (now += ms), Promise.resolve()),
    });
    const c = client({ rateBudget: budget });
    for (let i = 0; i < 4; i++) await c.runNow({ job_id: 3, idempotency_token: `t${i}` });
    expect(budgetWaits).toEqual([500, 500]);
    expect(server.count(RUN_NOW)).toBe(4);
  });
});
