import axios, { type AxiosInstance } from 'axios';
import { OrbiterError } from '../errors';
import { parseRetryAfter, retryDelayMs, sleep, type BackoffPolicy } from '../http/retry';
import type { Logger } from '../logger';
import { redactSecrets } from './redact';

export interface NasaResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  url: string;
}

export interface NasaGetOptions {
  params?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Add api_key=<key> (api.nasa.gov only; other hosts must not see the key). */
  withApiKey?: boolean;
}

export interface NasaHttpOptions {
  apiKey: string;
  timeoutMs: number;
  backoff: BackoffPolicy;
  logger: Logger;
  signal?: AbortSignal;
  random?: () => number;
  /** Called on every throttled response, for telemetry. */
  onThrottled?: (url: string) => void;
}

/** A plain GET client over axios that retries 429/5xx/timeouts with backoff and Retry-After, and never leaks the key. */
export class NasaHttp {
  private readonly axios: AxiosInstance;

  constructor(private readonly opts: NasaHttpOptions) {
    // Status handling is ours (validateStatus), so a 4xx body can be read for its error code.
    this.axios = axios.create({ timeout: opts.timeoutMs, responseType: 'arraybuffer', validateStatus: () => true });
  }

  async get(url: string, options: NasaGetOptions = {}): Promise<NasaResponse> {
    const params = { ...options.params, ...(options.withApiKey ? { api_key: this.opts.apiKey } : {}) };
    const safeUrl = describeUrl(url, options.params);
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      let failure: OrbiterError;
      try {
        const res = await this.axios.get<ArrayBuffer>(url, {
          params,
          headers: options.headers,
          signal: this.opts.signal,
        });
        const headers = lowerHeaders(res.headers);
        const body = Buffer.from(res.data);
        this.noteRateLimit(headers, safeUrl);
        if (res.status >= 200 && res.status < 300) return { status: res.status, headers, body, url: safeUrl };
        failure = this.httpError(res.status, body, safeUrl);
        retryAfterMs = parseRetryAfter(headers['retry-after']);
        if (res.status === 429) this.opts.onThrottled?.(safeUrl);
      } catch (err) {
        if (this.opts.signal?.aborted) throw err;
        failure = networkError(err, safeUrl, this.opts.apiKey);
      }
      if (!failure.retryable || attempt >= this.opts.backoff.maxRetries) throw failure;
      const delay = retryDelayMs(attempt + 1, this.opts.backoff, retryAfterMs, this.opts.random);
      this.opts.logger.debug('retrying NASA request', { url: safeUrl, attempt: attempt + 1, delayMs: delay, code: failure.code });
      await sleep(delay, this.opts.signal);
    }
  }

  private noteRateLimit(headers: Record<string, string>, url: string): void {
    const remaining = Number(headers['x-ratelimit-remaining']);
    if (Number.isFinite(remaining) && remaining <= 5) {
      this.opts.logger.warn('api.nasa.gov rate budget nearly spent', { url, remaining, limit: headers['x-ratelimit-limit'] });
    }
  }

  private httpError(status: number, body: Buffer, url: string): OrbiterError {
    const upstream = redactSecrets(body.subarray(0, 500).toString('utf8'), this.opts.apiKey);
    const code = upstreamErrorCode(body);
    if (status === 429) {
      return new OrbiterError('UpstreamThrottled', `${url} answered 429 ${code ?? ''}`.trim(), {
        retryable: true,
        details: { status, upstream },
      });
    }
    if (status === 401 || status === 403) {
      return new OrbiterError('UpstreamAuthFailed', `${url} answered ${status} ${code ?? ''}: check NASA_API_KEY`.trim(), {
        details: { status, upstream },
      });
    }
    return new OrbiterError('UpstreamHttpError', `${url} answered ${status}${code ? ` (${code})` : ''}`, {
      retryable: status >= 500 || status === 408,
      details: { status, upstream },
    });
  }
}

/** Gateway errors carry error.code; services carry code/http_error (see docs/nasa-apis.md §0). */
function upstreamErrorCode(body: Buffer): string | undefined {
  try {
    const j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const gw = j['error'] as Record<string, unknown> | undefined;
    if (gw && typeof gw['code'] === 'string') return gw['code'];
    if (typeof j['http_error'] === 'string') return j['http_error'];
    if (typeof j['msg'] === 'string') return j['msg'];
  } catch {
    /* not JSON: no code */
  }
  return undefined;
}

function networkError(err: unknown, url: string, apiKey: string): OrbiterError {
  const e = err as { code?: string; message?: string };
  const message = redactSecrets(e.message ?? String(err), apiKey);
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || /timeout/i.test(message)) {
    return new OrbiterError('UpstreamTimeout', `${url} timed out`, { retryable: true });
  }
  return new OrbiterError('UpstreamHttpError', `${url} failed: ${message}`, {
    retryable: ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_BAD_RESPONSE'].includes(e.code ?? ''),
    details: { errno: e.code },
  });
}

function lowerHeaders(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && v !== null) out[k.toLowerCase()] = String(v);
  return out;
}

/** URL for logs and errors: the params we chose, never the key. */
function describeUrl(url: string, params?: NasaGetOptions['params']): string {
  const q = Object.entries(params ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('&');
  return q ? `${url}?${q}` : url;
}
