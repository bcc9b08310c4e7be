/**
 * Backoff arithmetic shared by every HTTP client (NASA, Databricks): exponential with full jitter, capped,
 * and never shorter than what the server asked for in Retry-After.
 */
export interface BackoffPolicy {
  /** Attempts after the first one. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultBackoff: BackoffPolicy = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Node and SDK error codes of a connection that failed or broke: worth retrying whatever the request. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_NETWORK',
]);

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns ms, or undefined if absent/invalid. */
export function parseRetryAfter(header: unknown, nowMs: number = Date.now()): number | undefined {
  if (header === undefined || header === null) return undefined;
  const text = String(Array.isArray(header) ? header[0] : header).trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date has a weekday/month name; Date.parse alone would also take "-3" as a year.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Delay before retry number `attempt` (1-based). Full jitter keeps many clients from retrying in lockstep. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * random());
}

/** The server's Retry-After wins when it is longer than our own backoff; it is still capped to keep runs bounded. */
export function retryDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
  retryAfterCapMs = 5 * 60_000,
): number {
  const own = backoffDelayMs(attempt, policy, random);
  if (retryAfterMs === undefined) return own;
  return Math.max(own, Math.min(retryAfterMs, retryAfterCapMs));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions {
  policy?: BackoffPolicy;
  /** Operation name for the per-attempt debug log. */
  operation?: string;
  abortSignal?: AbortSignal;
  /** Which failures to retry; default: errors carrying `retryable: true`. */
  isRetryable?: (err: unknown, attempt: number) => boolean;
  /** Server-requested wait (ms) carried by an error, e.g. a parsed Retry-After; default reads `err.retryAfterMs`. */
  retryAfterMs?: (err: unknown) => number | undefined;
  /** Called before each wait (automatic retries log at debug, not warn). */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; error: unknown }) => void;
  random?: () => number;
  retryAfterCapMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function defaultRetryAfter(err: unknown): number | undefined {
  const v = typeof err === 'object' && err !== null ? (err as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function defaultIsRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;
}

/**
 * Runs `operation` until it succeeds, fails with a non-retryable error, or `policy.maxRetries` retries are spent
 * (the last error is rethrown). Waits use backoff with full jitter, never shorter than Retry-After; an abort
 * during a wait rejects with the signal's reason.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? defaultBackoff;
  const isRetryable = options.isRetryable ?? defaultIsRetryable;
  const getRetryAfter = options.retryAfterMs ?? defaultRetryAfter;
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    if (options.abortSignal?.aborted) throw options.abortSignal.reason ?? new Error('aborted');
    try {
      return await operation(attempt);
    } catch (err) {
      if (options.abortSignal?.aborted) throw options.abortSignal.reason ?? err;
      if (attempt > policy.maxRetries || !isRetryable(err, attempt)) throw err;
      const delayMs = retryDelayMs(attempt, policy, getRetryAfter(err), options.random, options.retryAfterCapMs);
      options.onRetry?.({ operation: options.operation ?? 'operation', attempt, delayMs, error: err });
      await wait(delayMs, options.abortSignal);
    }
  }
}
