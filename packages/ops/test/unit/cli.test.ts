import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { ExitCode } from '../../src/cli/exitCodes';
import type { CycleOptions, CycleSummary } from 'orbiter/shared/ingest/ingestCycle';
import { testConfig } from '../../../../test/support/config';

interface Seen {
  method: string;
  url: string;
  key?: string;
  body?: unknown;
}

const runView = (over: Record<string, unknown> = {}) => ({
  runId: 'r-0001',
  dataset: 'neows',
  jobName: 'orbiter-neows-pipeline',
  state: 'succeeded',
  origin: 'api',
  inputs: [{ container: 'raw', path: 'neows/feed/2024/05/25/a.json', etag: '0x1' }],
  parameters: {},
  attempt: 1,
  correlationId: 'c',
  resultState: 'SUCCESS',
  requestedAt: '2026-11-24T10:00:00.000Z',
  dispatchedAt: '2026-11-24T10:00:02.000Z',
  startedAt: '2026-11-24T10:00:05.000Z',
  endedAt: '2026-11-24T10:02:05.000Z',
  updatedAt: '2026-11-24T10:02:05.000Z',
  databricksRunUrl: 'http://dbx/#run/7',
  ...over,
});

/** A fake Run API: routes answer from `handlers`, every request is recorded. */
class FakeApi {
  seen: Seen[] = [];
  server!: Server;
  url = '';
  getStates: string[] = [];
  async start(): Promise<void> {
    this.server = createServer(
      (req, res) =>
        void this.handle(req).then(([status, body]) => {
          res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
          res.end(JSON.stringify(body));
        }),
    );
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
  private async handle(req: IncomingMessage): Promise<[number, unknown]> {
    let raw = '';
    for await (const c of req) raw += String(c);
    const s: Seen = {
      method: req.method!,
      url: req.url!,
      ...(req.headers['x-functions-key'] ? { key: String(req.headers['x-functions-key']) } : {}),
      ...(raw ? { body: JSON.parse(raw) } : {}),
    };
    this.seen.push(s);
    if (s.key !== 'the-key-0123456789') return [401, { title: 'unauthorized', status: 401 }];
    const u = new URL(s.url, 'http://x');
    if (s.method === 'GET' && u.pathname === '/api/runs') {
      return [200, { runs: [runView(), runView({ runId: 'r-0002', state: 'failed', resultState: 'FAILED' })], nextCursor: 'CUR2' }];
    }
    if (s.method === 'GET' && u.pathname === '/api/runs/missing')
      return [404, { type: 'about:blank', title: 'run-not-found', detail: 'run missing not found', status: 404 }];
    if (s.method === 'GET' && u.pathname === '/api/runs/r-0001/logs') {
      const task = u.searchParams.get('task');
      const all = [
        { taskKey: 'bronze', databricksRunId: 71, state: 'SUCCESS', logs: 'bronze line\n', output: '{"stage":"bronze"}' },
        { taskKey: 'silver', databricksRunId: 72, state: 'FAILED', logs: 'tail of silver\n', logsTruncated: true, error: 'AnalysisException: boom' },
      ];
      return [200, { runId: 'r-0001', databricksRunId: 7, tasks: all.filter((t) => !task || t.taskKey === task) }];
    }
    if (s.method === 'GET' && u.pathname === '/api/runs/r-bad/logs') return [200, { runId: 'r-bad', tasks: 'nope' }];
    if (s.method === 'GET' && u.pathname === '/api/runs/r-tasks') {
      return [
        200,
        runView({
          runId: 'r-tasks',
          tasks: [
            { taskKey: 'bronze', databricksRunId: 71, dependsOn: [], state: 'SUCCESS', durationMs: 20_000 },
            {
              taskKey: 'silver',
              databricksRunId: 72,
              dependsOn: ['bronze'],
              state: 'SUCCESS',
              durationMs: 75_000,
              rowsWritten: 1234,
              quarantined: 3,
              quarantineReasons: { 'peakTime not a time': 3 },
            },
          ],
        }),
      ];
    }
    if (s.method === 'GET' && u.pathname.startsWith('/api/runs/')) {
      const state = this.getStates.shift() ?? 'succeeded';
      return [200, runView({ runId: decodeURIComponent(u.pathname.slice(10)), state, ...(state === 'failed' ? { resultState: 'FAILED' } : {}) })];
    }
    if (s.method === 'POST' && u.pathname === '/api/runs') {
      const b = s.body as { dataset?: string };
      if (b.dataset === 'nope')
        return [400, { title: 'invalid request', status: 400, errors: [{ field: 'body.dataset', message: 'invalid enum value' }] }];
      return [202, { runId: 'r-new', statusUrl: `${this.url}/runs/r-new`, runs: [{ runId: 'r-new', statusUrl: '', state: 'requested', inputs: 0 }] }];
    }
    if (s.method === 'POST' && u.pathname === '/api/runs/r-0001/cancel')
      return [409, { title: 'conflict', detail: 'run r-0001 already succeeded', status: 409 }];
    if (s.method === 'POST' && u.pathname.endsWith('/cancel')) return [202, { runId: 'r-9', state: 'running', cancelRequested: true, statusUrl: '' }];
    return [404, { title: 'no route' }];
  }
}

function io(env: Record<string, string> = { ORBITER_FUNCTION_KEY: 'the-key-0123456789' }) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd: '/nonexistent-cwd' };
  return { io: x, out, err };
}

describe('orbiter runs (against a fake Run API)', () => {
  const api = new FakeApi();
  beforeAll(() => api.start());
  afterAll(() => api.stop());
  beforeEach(() => {
    api.seen = [];
  });

  it('runs list: passes filters and the function key, prints a table and the next cursor', async () => {
    const t = io();
    const code = await runCli(
      ['runs', '--api', api.url, 'list', '--dataset', 'neows', '--state', 'failed', '--limit', '5', '--since', '2026-11-24T00:00:00Z'],
      t.io,
    );
    expect(code).toBe(ExitCode.ok);
    const u = new URL(api.seen[0]!.url, 'http://x');
    expect(Object.fromEntries(u.searchParams)).toEqual({ dataset: 'neows', state: 'failed', limit: '5', since: '2026-11-24T00:00:00Z' });
    expect(api.seen[0]!.key).toBe('the-key-0123456789');
    expect(t.out[0]).toMatch(/^RUN\s+DATASET\s+STATE/);
    expect(t.out[1]).toContain('r-0001');
    expect(t.out[1]).toContain('2m00s');
    expect(t.out[2]).toContain('failed/FAILED');
    expect(t.err).toContain('more: --cursor CUR2');
  });

  it('runs list --json prints the response; --key overrides the environment', async () => {
    const t = io({});
    expect(await runCli(['runs', '--api', api.url, '--key', 'the-key-0123456789', 'list', '--json', '--cursor', 'CUR2'], t.io)).toBe(0);
    expect(JSON.parse(t.out.join('\n')).nextCursor).toBe('CUR2');
    expect(api.seen[0]!.url).toContain('cursor=CUR2');
  });

  it('without --key or ORBITER_FUNCTION_KEY, uses the key the local stack keeps in .orbiter/function-key', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'orbiter-cli-'));
    try {
      mkdirSync(join(cwd, '.orbiter'));
      writeFileSync(join(cwd, '.orbiter', 'function-key'), 'the-key-0123456789\n');
      const t = io({});
      expect(await runCli(['runs', '--api', api.url, 'list'], { ...t.io, cwd })).toBe(0);
      expect(api.seen[0]!.key).toBe('the-key-0123456789');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('runs show prints details; a missing run exits 3', async () => {
    const t = io();
    expect(await runCli(['runs', '--api', api.url, 'show', 'r-0001'], t.io)).toBe(0);
    expect(t.out.join('\n')).toMatch(/state\s+succeeded \(SUCCESS\)[\s\S]*databricks http:\/\/dbx\/#run\/7[\s\S]*neows\/feed/);
    const m = io();
    expect(await runCli(['runs', '--api', api.url, 'show', 'missing'], m.io)).toBe(ExitCode.notFound);
    expect(m.err.join('\n')).toContain('run missing not found');
  });

  it('runs show prints the task graph: state, duration, rows written and quarantined with reasons', async () => {
    const t = io();
    expect(await runCli(['runs', '--api', api.url, 'show', 'r-tasks'], t.io)).toBe(0);
    const text = t.out.join('\n');
    expect(text).toMatch(/TASK\s+STATE\s+DURATION\s+ROWS\s+QUARANTINED/);
    expect(text).toMatch(/ {2}bronze\s+SUCCESS\s+20s/);
    expect(text).toMatch(/ {2}silver\s+SUCCESS\s+1m15s\s+1234\s+3\s+after bronze/);
    expect(text).toContain('silver quarantined 3: peakTime not a time');
  });

  it('runs logs prints each task (or --task) with its logs, exit value and error; a malformed answer is an error', async () => {
    const t = io();
    expect(await runCli(['runs', '--api', api.url, 'logs', 'r-0001'], t.io)).toBe(0);
    expect(t.out).toEqual([
      '=== bronze (SUCCESS, Databricks run 71) ===',
      'bronze line',
      '--- exit value: {"stage":"bronze"}',
      '=== silver (FAILED, Databricks run 72) ===',
      '[… earlier lines cut: only the tail is kept]',
      'tail of silver',
      '--- error: AnalysisException: boom',
    ]);
    const one = io();
    expect(await runCli(['runs', '--api', api.url, 'logs', 'r-0001', '--task', 'silver'], one.io)).toBe(0);
    expect(api.seen.at(-1)!.url).toBe('/api/runs/r-0001/logs?task=silver');
    expect(one.out[0]).toBe('=== silver (FAILED, Databricks run 72) ===');
    const bad = io();
    expect(await runCli(['runs', '--api', api.url, 'logs', 'r-bad'], bad.io)).toBe(ExitCode.failure);
    expect(bad.err.join('\n')).toContain('logs of an unexpected shape');
  });

  it('runs request sends dataset, parameters and range; a bad request exits 2 with field errors', async () => {
    const t = io();
    expect(
      await runCli(
        ['runs', '--api', api.url, 'request', 'neows', '--param', 'a=1', '--param', 'b=x=y', '--from', '2024-05-01', '--to', '2024-05-07'],
        t.io,
      ),
    ).toBe(0);
    expect(api.seen[0]).toMatchObject({
      method: 'POST',
      body: { dataset: 'neows', parameters: { a: '1', b: 'x=y' }, from: '2024-05-01', to: '2024-05-07' },
    });
    expect(t.out[0]).toContain('r-new  requested');
    const bad = io();
    expect(await runCli(['runs', '--api', api.url, 'request', 'nope'], bad.io)).toBe(ExitCode.usage);
    expect(bad.err.join('\n')).toContain('body.dataset: invalid enum value');
  });

  it('runs request --wait polls with progress; exit 0 on success, 1 on a failed run', async () => {
    api.getStates = ['requested', 'running', 'succeeded'];
    const ok = io();
    expect(await runCli(['runs', '--api', api.url, 'request', 'neows', '--wait'], ok.io, { pollMs: 10 })).toBe(0);
    expect(ok.err.filter((l) => /r-new (requested|running|succeeded)/.test(l))).toHaveLength(3);
    api.getStates = ['running', 'failed'];
    const bad = io();
    expect(await runCli(['runs', '--api', api.url, 'request', 'neows', '--wait'], bad.io, { pollMs: 10 })).toBe(ExitCode.failure);
  });

  it('runs cancel: accepted, conflict exits 4', async () => {
    const t = io();
    expect(await runCli(['runs', '--api', api.url, 'cancel', 'r-9'], t.io)).toBe(0);
    expect(t.out[0]).toContain('cancel sent to Databricks');
    expect(await runCli(['runs', '--api', api.url, 'cancel', 'r-0001'], io().io)).toBe(ExitCode.conflict);
  });

  it('a wrong key exits 5; an unreachable API exits 6; bad usage exits 2', async () => {
    expect(await runCli(['runs', '--api', api.url, '--key', 'wrong-key-0123456789', 'list'], io({}).io)).toBe(ExitCode.unauthorized);
    const down = io();
    expect(await runCli(['runs', '--api', 'http://127.0.0.1:1/api', 'list'], down.io)).toBe(ExitCode.unavailable);
    expect(down.err.join('\n')).toContain('cannot reach the Run API');
    expect(await runCli(['runs', 'frobnicate'], io().io)).toBe(ExitCode.usage);
    expect(await runCli(['runs', '--api', api.url, 'request', 'neows', '--from', '2024-05-01'], io().io)).toBe(ExitCode.usage);
    expect(await runCli(['runs', '--api', api.url, 'request', 'neows', '--param', 'novalue'], io().io)).toBe(ExitCode.usage);
    expect(await runCli(['--help'], io().io)).toBe(0);
  });
});

describe('orbiter ingest now', () => {
  const summary = (ok: boolean): CycleSummary => ({
    startedAt: '',
    finishedAt: '',
    ok,
    streams: [
      {
        source: 'apod',
        stream: 'apod',
        windows: [{ start: '2024-05-25', end: '2024-05-25' }],
        records: 3,
        bytes: 10,
        blobsWritten: 1,
        blobsSkipped: 0,
        emptyPages: 0,
        landed: ['x'],
        quarantined: [],
        errors: ok ? [] : ['boom'],
        watermark: '2024-05-26',
      },
    ],
  });

  it('runs one cycle with the chosen sources and range, printing progress', async () => {
    const t = io();
    let opts: CycleOptions | undefined;
    const code = await runCli(['ingest', 'now', '--source', 'apod,neows', '--from', '2024-05-25', '--to', '2024-05-26'], t.io, {
      config: () => testConfig(),
      runIngestionCycle: async (o) => {
        opts = o;
        o.onProgress?.(summary(true).streams[0]!, { start: '2024-05-25', end: '2024-05-25' });
        return summary(true);
      },
    });
    expect(code).toBe(0);
    expect(opts?.sources).toEqual(['apod', 'neows']);
    expect(opts?.range).toEqual({ from: '2024-05-25', to: '2024-05-26' });
    expect(t.err.some((l) => l.includes('apod/apod 2024-05-25..2024-05-25'))).toBe(true);
    expect(t.out[0]).toContain('records=3');
  });

  it('exits 1 when a stream failed and 2 for an unknown source', async () => {
    expect(await runCli(['ingest', 'now'], io().io, { config: () => testConfig(), runIngestionCycle: async () => summary(false) })).toBe(
      ExitCode.failure,
    );
    expect(
      await runCli(['ingest', 'now', '--source', 'mars'], io().io, { config: () => testConfig(), runIngestionCycle: async () => summary(true) }),
    ).toBe(ExitCode.usage);
  });
});
