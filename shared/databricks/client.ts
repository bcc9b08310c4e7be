import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { z } from 'zod';
import { defaultBackoff, NETWORK_ERROR_CODES, parseRetryAfter, withRetry, type BackoffPolicy } from '../http/retry';
import { silentLogger, type Logger } from '../logger';
import type { TokenProvider } from './auth';
import { DatabricksApiError, type DatabricksFailureKind } from './errors';
import { WorkspaceRateBudget, type RateClass } from './rateBudget';
import {
  DatabricksErrorBodySchema,
  EmptyResponseSchema,
  JobSchema,
  ListJobsResponseSchema,
  ListRunsResponseSchema,
  RepairRunResponseSchema,
  RunNowResponseSchema,
  RunOutputSchema,
  RunSchema,
  type Job,
  type ListJobsParams,
  type ListJobsResponse,
  type ListRunsParams,
  type ListRunsResponse,
  type RepairRunRequest,
  type RepairRunResponse,
  type Run,
  type RunNowRequest,
  type RunNowResponse,
  type RunOutput,
} from './schemas';

export const MAX_IDEMPOTENCY_TOKEN_LENGTH = 64;
export const MAX_RUNS_LIST_LIMIT = 25;

export interface DatabricksJobsClientOptions {
  /** Workspace URL, e.g. https://adb-123.4.azuredatabricks.net (scheme optional) or http://127.0.0.1:port locally. */
  host: string;
  tokenProvider: TokenProvider;
  /** Share one budget between all clients of a workspace. Default: a private budget with Databricks' limits. */
  rateBudget?: WorkspaceRateBudget;
  /** Retries of 429/5xx/timeouts/resets. Default 5 retries, 500 ms base, 30 s cap (full jitter). */
  retryPolicy?: BackoffPolicy;
  /** Longest Retry-After honoured per wait (default 5 minutes). */
  retryAfterCapMs?: number;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
  logger?: Logger;
  /** Injectable for tests. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface CallOptions {
  abortSignal?: AbortSignal;
  timeoutMs?: number;
}

interface CallSpec<S extends z.ZodType> {
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  schema: S;
  rateClass: RateClass;
  /**
   * Whether repeating the request after an ambiguous failure (timeout, reset, 5xx) cannot do harm.
   * run-now without an idempotency token and repair without latest_repair_id are not: for them only
   * failures that prove the request was not processed (429, connection refused) are retried.
   */
  replaySafe: boolean;
}

const TIMEOUT_ERROR_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);

export function normaliseHost(host: string): string {
  const trimmed = host.trim().replace(/\/+$/, '');
  if (trimmed === '') throw new TypeError('Databricks host must not be empty');
  return /^https?:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
}

/** Azure Databricks Jobs API 2.2 client: validated responses, a per-workspace rate budget, safe retries, typed errors. */
export class DatabricksJobsClient {
  readonly host: string;
  private readonly http: AxiosInstance;
  private readonly tokens: TokenProvider;
  private readonly budget: WorkspaceRateBudget;
  private readonly policy: BackoffPolicy;
  private readonly timeoutMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: DatabricksJobsClientOptions) {
    this.host = normaliseHost(options.host);
    this.tokens = options.tokenProvider;
    this.budget = options.rateBudget ?? new WorkspaceRateBudget(options.sleep ? { sleep: options.sleep } : {});
    this.policy = options.retryPolicy ?? defaultBackoff;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.logger = options.logger ?? silentLogger;
    this.http = axios.create({
      baseURL: this.host,
      headers: { 'User-Agent': 'orbiter-jobs-client/0.1', Accept: 'application/json' },
      // We parse ourselves so that a malformed body is a typed error, and classify statuses ourselves.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
    });
  }

  listJobs(params: ListJobsParams = {}, opts?: CallOptions): Promise<ListJobsResponse> {
    return this.call(
      {
        operation: 'jobs/list',
        method: 'GET',
        path: '/api/2.2/jobs/list',
        query: { ...params },
        schema: ListJobsResponseSchema,
        rateClass: 'other',
        replaySafe: true,
      },
      opts,
    );
  }

  /** All jobs whose name equals `name` exactly (follows page tokens). */
  async findJobsByName(name: string, opts?: CallOptions): Promise<Job[]> {
    const found: Job[] = [];
    let page_token: string | undefined;
    for (;;) {
      const page = await this.listJobs({ name, limit: 100, ...(page_token ? { page_token } : {}) }, opts);
      found.push(...page.jobs.filter((j) => j.settings?.name === name));
      if (!page.has_more || !page.next_page_token) return found;
      page_token = page.next_page_token;
    }
  }

  getJob(jobId: number, opts?: CallOptions): Promise<Job> {
    return this.call(
      {
        operation: 'jobs/get',
        method: 'GET',
        path: '/api/2.2/jobs/get',
        query: { job_id: jobId },
        schema: JobSchema,
        rateClass: 'other',
        replaySafe: true,
      },
      opts,
    );
  }

  /**
   * Triggers a run. With an idempotency token a repeat returns the existing run, even a failed one: always read
   * the returned run's state.
   */
  runNow(request: RunNowRequest, opts?: CallOptions): Promise<RunNowResponse> {
    const token = request.idempotency_token;
    if (token !== undefined && (token.length === 0 || token.length > MAX_IDEMPOTENCY_TOKEN_LENGTH)) {
      throw new RangeError(`idempotency_token must be 1..${MAX_IDEMPOTENCY_TOKEN_LENGTH} characters (got ${token.length})`);
    }
    return this.call(
      {
        operation: 'jobs/run-now',
        method: 'POST',
        path: '/api/2.2/jobs/run-now',
        body: request,
        schema: RunNowResponseSchema,
        rateClass: 'runNow',
        replaySafe: token !== undefined,
      },
      opts,
    );
  }

  getRun(
    runId: number,
    params: { include_history?: boolean; include_resolved_values?: boolean; page_token?: string } = {},
    opts?: CallOptions,
  ): Promise<Run> {
    return this.call(
      {
        operation: 'jobs/runs/get',
        method: 'GET',
        path: '/api/2.2/jobs/runs/get',
        query: { run_id: runId, ...params },
        schema: RunSchema,
        rateClass: 'runsGet',
        replaySafe: true,
      },
      opts,
    );
  }

  listRuns(params: ListRunsParams = {}, opts?: CallOptions): Promise<ListRunsResponse> {
    if (params.limit !== undefined && (params.limit < 1 || params.limit > MAX_RUNS_LIST_LIMIT)) {
      throw new RangeError(`runs/list limit must be 1..${MAX_RUNS_LIST_LIMIT} (got ${params.limit})`);
    }
    return this.call(
      {
        operation: 'jobs/runs/list',
        method: 'GET',
        path: '/api/2.2/jobs/runs/list',
        query: { ...params },
        schema: ListRunsResponseSchema,
        rateClass: 'other',
        replaySafe: true,
      },
      opts,
    );
  }

  /** Asks Databricks to cancel; the run reaches TERMINATED/CANCELED later (poll runs/get). */
  async cancelRun(runId: number, opts?: CallOptions): Promise<void> {
    await this.call(
      {
        operation: 'jobs/runs/cancel',
        method: 'POST',
        path: '/api/2.2/jobs/runs/cancel',
        body: { run_id: runId },
        schema: EmptyResponseSchema,
        rateClass: 'other',
        replaySafe: true,
      },
      opts,
    );
  }

  /** Output of one task run (use the task's run_id from runs/get `tasks[]` for multi-task jobs). */
  getRunOutput(runId: number, opts?: CallOptions): Promise<RunOutput> {
    return this.call(
      {
        operation: 'jobs/runs/get-output',
        method: 'GET',
        path: '/api/2.2/jobs/runs/get-output',
        query: { run_id: runId },
        schema: RunOutputSchema,
        rateClass: 'runsGet',
        replaySafe: true,
      },
      opts,
    );
  }

  /** Re-runs failed (or the named) tasks of a terminated run; pass latest_repair_id from repair_history when repairing again. */
  repairRun(request: RepairRunRequest, opts?: CallOptions): Promise<RepairRunResponse> {
    return this.call(
      {
        operation: 'jobs/runs/repair',
        method: 'POST',
        path: '/api/2.2/jobs/runs/repair',
        body: request,
        schema: RepairRunResponseSchema,
        rateClass: 'runNow',
        replaySafe: request.latest_repair_id !== undefined,
      },
      opts,
    );
  }

  private async call<S extends z.ZodType>(spec: CallSpec<S>, opts: CallOptions = {}): Promise<z.output<S>> {
    let tokenRefreshed = false;
    try {
      return await withRetry(
        async () => {
          await this.budget.acquire(spec.rateClass, opts.abortSignal);
          const token = await this.tokens.getToken(opts.abortSignal);
          return await this.send(spec, token, opts);
        },
        {
          policy: this.policy,
          operation: spec.operation,
          ...(opts.abortSignal ? { abortSignal: opts.abortSignal } : {}),
          ...(this.options.random ? { random: this.options.random } : {}),
          ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
          ...(this.options.retryAfterCapMs !== undefined ? { retryAfterCapMs: this.options.retryAfterCapMs } : {}),
          isRetryable: (err) => {
            if (!(err instanceof DatabricksApiError)) return (err as { retryable?: unknown } | null)?.retryable === true;
            // A cached Entra token can be revoked before expiry: drop it and try once more.
            if (err.status === 401 && !tokenRefreshed && this.tokens.invalidate) {
              tokenRefreshed = true;
              this.tokens.invalidate();
              return true;
            }
            if (!err.retryable) return false;
            return spec.replaySafe || err.kind === 'throttled' || (err.kind === 'network' && hasCode(err.cause, 'ECONNREFUSED'));
          },
          onRetry: ({ operation, attempt, delayMs, error }) =>
            this.logger.debug('Databricks call failed; retrying', {
              operation,
              attempt,
              delayMs,
              code: (error as { code?: unknown }).code,
              status: (error as { status?: unknown }).status,
            }),
        },
      );
    } catch (err) {
      if (opts.abortSignal?.aborted && !(err instanceof DatabricksApiError && err.kind === 'aborted')) {
        throw new DatabricksApiError({
          code: 'JobsApiError',
          kind: 'aborted',
          message: `${spec.operation} aborted`,
          retryable: false,
          operation: spec.operation,
          cause: err,
        });
      }
      throw err;
    }
  }

  private async send<S extends z.ZodType>(spec: CallSpec<S>, token: string, opts: CallOptions): Promise<z.output<S>> {
    const timeoutSignal = AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs);
    const signal = opts.abortSignal ? AbortSignal.any([opts.abortSignal, timeoutSignal]) : timeoutSignal;
    const fail = (
      kind: DatabricksFailureKind,
      message: string,
      extra: Partial<ConstructorParameters<typeof DatabricksApiError>[0]> = {},
    ): DatabricksApiError =>
      new DatabricksApiError({
        code: 'JobsApiError',
        kind,
        message: `${spec.operation}: ${message}`,
        retryable: kind === 'server' || kind === 'timeout' || kind === 'network' || kind === 'malformed-response' || kind === 'throttled',
        operation: spec.operation,
        ...extra,
      });

    let res: AxiosResponse<string>;
    try {
      res = await this.http.request<string>({
        method: spec.method,
        url: spec.path,
        params: spec.query ? dropUndefined(spec.query) : undefined,
        data: spec.body,
        headers: { Authorization: `Bearer ${token}` },
        signal,
      });
    } catch (err) {
      if (opts.abortSignal?.aborted) throw fail('aborted', 'aborted by caller', { retryable: false, cause: err });
      if (timeoutSignal.aborted || TIMEOUT_ERROR_CODES.has(errorCode(err) ?? '')) throw fail('timeout', 'request timed out', { cause: err });
      const code = errorCode(err);
      if (code && NETWORK_ERROR_CODES.has(code)) throw fail('network', `network error ${code}`, { cause: err });
      throw fail('network', `request failed: ${(err as Error).message}`, { cause: err });
    }

    const status = res.status;
    const text = typeof res.data === 'string' ? res.data : '';
    let body: unknown;
    let parseError: unknown;
    if (text.trim() === '') body = {};
    else {
      try {
        body = JSON.parse(text);
      } catch (err) {
        parseError = err;
      }
    }

    if (status >= 200 && status < 300) {
      if (parseError !== undefined) throw fail('malformed-response', `HTTP ${status} with a body that is not JSON`, { status, cause: parseError });
      const parsed = spec.schema.safeParse(body);
      if (!parsed.success) {
        const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        throw fail('unexpected-response', `response does not match the Jobs API 2.2 shape (${where})`, {
          status,
          retryable: false,
          cause: parsed.error,
        });
      }
      return parsed.data;
    }

    const errBody = DatabricksErrorBodySchema.safeParse(body);
    const dbCode = errBody.success ? errBody.data.error_code : undefined;
    const dbMessage = errBody.success && errBody.data.message ? errBody.data.message : text.slice(0, 300);
    const extra = { status, ...(dbCode ? { databricksErrorCode: dbCode } : {}) };
    const message = `HTTP ${status}${dbCode ? ` ${dbCode}` : ''}: ${dbMessage}`;
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    if (status === 429) {
      throw new DatabricksApiError({
        code: 'JobsApiThrottled',
        kind: 'throttled',
        message: `${spec.operation}: ${message}`,
        retryable: true,
        operation: spec.operation,
        ...extra,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    if (status >= 500) throw fail('server', message, { ...extra, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
    if (status === 401)
      throw new DatabricksApiError({
        code: 'Unauthorized',
        kind: 'auth',
        message: `${spec.operation}: ${message}`,
        retryable: false,
        operation: spec.operation,
        ...extra,
      });
    if (status === 403)
      throw new DatabricksApiError({
        code: 'Forbidden',
        kind: 'auth',
        message: `${spec.operation}: ${message}`,
        retryable: false,
        operation: spec.operation,
        ...extra,
      });
    // Jobs API answers a missing job/run with 400 INVALID_PARAMETER_VALUE "Job 123 does not exist."; the official
    // SDK maps exactly that to ResourceDoesNotExist (databricks/databricks-sdk-py#591), and so do we, for gets only.
    const missingOnGet = status === 400 && dbCode === 'INVALID_PARAMETER_VALUE' && spec.method === 'GET' && /\bdoes not exist\b/i.test(dbMessage);
    if (status === 404 || dbCode === 'RESOURCE_DOES_NOT_EXIST' || missingOnGet) {
      throw new DatabricksApiError({
        code: 'NotFound',
        kind: 'not-found',
        message: `${spec.operation}: ${message}`,
        retryable: false,
        operation: spec.operation,
        ...extra,
      });
    }
    throw fail('bad-request', message, { ...extra, retryable: false });
  }
}

function dropUndefined(query: Record<string, string | number | boolean | undefined>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined) out[k] = v;
  return out;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== 'ERR_BAD_RESPONSE' && code !== 'ERR_BAD_REQUEST') {
    // axios wraps socket errors; the original code is on `cause` when axios reports a generic one.
    if (code === 'ERR_NETWORK' || code === 'ERR_CANCELED') return errorCode((err as { cause?: unknown }).cause) ?? code;
    return code;
  }
  return errorCode((err as { cause?: unknown }).cause);
}

function hasCode(err: unknown, code: string): boolean {
  return errorCode(err) === code;
}
