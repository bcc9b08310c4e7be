import { backoffDelayMs, parseRetryAfter, retryDelayMs, sleep } from '../../shared/http/retry';

const policy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000 };

describe('Retry-After parsing', () => {
  it('reads delta-seconds', () => expect(parseRetryAfter('7')).toBe(7000));
  it('reads fractional seconds', () => expect(parseRetryAfter('1.5')).toBe(1500));
  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
  });
  it('clamps a past date to zero', () => expect(parseRetryAfter('Tue, 24 Nov 2020 10:00:30 GMT')).toBe(0));
  it.each([undefined, null, '', 'soon'])('ignores %p', (v) => expect(parseRetryAfter(v)).toBeUndefined());
  it('takes the first of repeated headers', () => expect(parseRetryAfter(['2', '9'])).toBe(2000));
});

describe('backoff', () => {
  it('grows exponentially with full jitter and is capped', () => {
    expect(backoffDelayMs(1, policy, () => 1)).toBe(100);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(400);
    expect(backoffDelayMs(10, policy, () => 1)).toBe(1000);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });
  it('never waits less than Retry-After asks, within its cap', () => {
    expect(retryDelayMs(1, policy, 5000, () => 1)).toBe(5000);
    expect(retryDelayMs(4, policy, 10, () => 1)).toBe(800);
    expect(retryDelayMs(1, policy, 10 * 60_000, () => 1, 60_000)).toBe(60_000);
  });
  it('sleep can be aborted', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
