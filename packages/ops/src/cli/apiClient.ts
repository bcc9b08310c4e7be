import { runLogsView, type RunLogsView, type runTaskView } from 'orbiter/shared/api/schemas';
import type { z } from 'zod';
import { CliError, ExitCode, exitCodeForStatus } from './exitCodes';

/** The Run API's run view (shared/api/schemas.ts runView); only fields the CLI prints are named. */
export interface ApiRun {
  runId: string;
  dataset: string;
  jobName: string;
  state: string;
  origin?: string;
  inputs?: { container: string; path: string; etag?: string }[];
  parameters?: Record<string, string>;
  attempt?: number;
  databricksRunId?: number;
  databricksRunUrl?: string;
  resultState?: string;
  error?: string;
  requestedAt: string;
  dispatchedAt?: string;
  startedAt?: string;
  endedAt?: string;
  updatedAt?: string;
  statusUrl?: string;
  /** The Databricks run's tasks, once it ended. */
  tasks?: z.infer<typeof runTaskView>[];
}

export interface ApiRunList {
  runs: ApiRun[];
  nextCursor?: string;
}

export interface CreateRunResult {
  runId: string;
  statusUrl: string;
  runs: { runId: string; state: string; window?: { start: string; end: string }; inputs: number }[];
  skippedWindows?: { start: string; end: string }[];
}

interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  errors?: { field?: string; message?: string }[];
}

/** A thin client of the Run API (/api/runs...), turning problem+json errors into CliErrors with exit codes. */
export class RunApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly key: string | undefined,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly timeoutMs = 30_000,
  ) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl.replace(/\/$/, '')}${path}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers: {
          accept: 'application/json, application/problem+json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.key ? { 'x-functions-key': this.key } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err instanceof Error ? err.message : String(err));
      throw new CliError(`cannot reach the Run API at ${url}: ${cause} (is the local stack running? see --api)`, ExitCode.unavailable);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const p = (parsed ?? {}) as Problem;
      const fields = (p.errors ?? []).map((e) => `\n  ${e.field ?? ''}: ${e.message ?? ''}`).join('');
      const what = p.detail ?? p.title ?? (text.slice(0, 200) || res.statusText);
      throw new CliError(`${method} ${path} → ${res.status}: ${what}${fields}`, exitCodeForStatus(res.status));
    }
    return parsed as T;
  }

  list(q: { dataset?: string; state?: string; since?: string; limit?: number; cursor?: string }): Promise<ApiRunList> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return this.call('GET', `/runs${qs ? `?${qs}` : ''}`);
  }

  get(runId: string): Promise<ApiRun> {
    return this.call('GET', `/runs/${encodeURIComponent(runId)}`);
  }

  /** Each task's logs, exit value and error (GET /api/runs/{id}/logs), validated against the API's schema. */
  async logs(runId: string, task?: string): Promise<RunLogsView> {
    const body = await this.call<unknown>('GET', `/runs/${encodeURIComponent(runId)}/logs${task ? `?task=${encodeURIComponent(task)}` : ''}`);
    const parsed = runLogsView.safeParse(body);
    if (!parsed.success)
      throw new CliError(`the Run API answered logs of an unexpected shape: ${parsed.error.issues[0]?.message ?? ''}`, ExitCode.failure);
    return parsed.data;
  }

  request(body: { dataset: string; parameters?: Record<string, string>; from?: string; to?: string }): Promise<CreateRunResult> {
    return this.call('POST', '/runs', body);
  }

  cancel(runId: string): Promise<{ runId: string; state: string; cancelRequested: boolean; statusUrl?: string }> {
    return this.call('POST', `/runs/${encodeURIComponent(runId)}/cancel`);
  }
}
