import { backoffDelayMs, parseRetryAfter, retryDelayMs, withRetry } from '../../../shared/http/retry';
import { OrbiterError } from '../../../shared/errors';

const policy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000 };

describe('retry delay math', () => {
  it('parses Retry-After as delta-seconds or an HTTP date', () => {
    const now = Date.parse('Tue, 24 Nov 2026 14:00:00 GMT');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Tue, 24 Nov 2026 14:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 13:59:00 GMT', now)).toBe(0); // in the past: retry now
    expect(parseRetryAfter(['5', '9'], now)).toBe(5000);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });

  it('uses full jitter under an exponential, capped ceiling', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, policy, () => 0.999999))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(2, policy, () => 0.5)).toBe(100);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(4, policy);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it('never waits less than Retry-After, but caps what the server may ask for', () => {
    expect(retryDelayMs(1, policy, 5000, () => 0.5)).toBe(5000);
    expect(retryDelayMs(4, policy, 10, () => 0.5)).toBe(400); // own backoff is longer
    expect(retryDelayMs(1, policy, 3_600_000, () => 0.5, 60_000)).toBe(60_000);
    expect(retryDelayMs(1, policy, undefined, () => 0.5)).toBe(50);
  });
});

describe('withRetry', () => {
  const retryable = (n: number): OrbiterError => new OrbiterError('JobsApiThrottled', `try ${n}`, { retryable: true });

  it('retries retryable errors until success, waiting with the computed delays', async () => {
    const waits: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        if (attempt < 3) throw Object.assign(retryable(attempt), attempt === 2 ? { retryAfterMs: 2500 } : {});
        return `ok after ${attempt}`;
      },
      { policy, random: () => 0.5, sleep: (ms) => (waits.push(ms), Promise.resolve()) },
    );
    expect(result).toBe('ok after 3');
    expect(waits).toEqual([50, 2500]);
  });

  it('rethrows non-retryable errors at once and the last error when retries run out', async () => {
    const calls: number[] = [];
    const fatal = new OrbiterError('InvalidArgument', 'bad');
    await expect(withRetry(async (a) => (calls.push(a), Promise.reject(fatal)), { policy, sleep: () => Promise.resolve() })).rejects.toBe(fatal);
    expect(calls).toEqual([1]);

    const log: number[] = [];
    await expect(
      withRetry(async (a) => Promise.reject(retryable(a)), { policy, sleep: () => Promise.resolve(), onRetry: (i) => log.push(i.attempt) }),
    ).rejects.toMatchObject({ message: 'try 4' });
    expect(log).toEqual([1, 2, 3]);
  });

  it('aborts during a wait', async () => {
    const controller = new AbortController();
    const p = withRetry(async () => Promise.reject(retryable(1)), {
      policy: { maxRetries: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      random: () => 1,
      abortSignal: controller.signal,
      // Abort once the 60 s wait has begun.
      onRetry: () => setImmediate(() => controller.abort(new Error('shutdown'))),
    });
    await expect(p).rejects.toThrow('shutdown');
  });
});
