import type { RetryPolicy } from './schema';

export type RetryDecision =
  { retry: false; reason: string } | { retry: true; strategy: RetryPolicy['strategy']; delayMs: number; nextAttempt: number };

/**
 * Whether a finished run with this termination type should run again. `attempt` is the 1-based number of the
 * attempt that just failed. Unknown or CLIENT_ERROR types are never retried; the delay doubles per attempt.
 */
export function decideRetry(policy: RetryPolicy, terminationType: string | undefined, attempt: number): RetryDecision {
  if (!terminationType || terminationType === 'SUCCESS') return { retry: false, reason: 'not a failure' };
  const rule = policy.retryOn[terminationType];
  if (!rule) return { retry: false, reason: `termination type ${terminationType} is not retried` };
  if (attempt >= rule.maxAttempts) return { retry: false, reason: `${terminationType}: ${attempt} of ${rule.maxAttempts} attempts used` };
  const seconds = Math.min(policy.backoff.maxSeconds, policy.backoff.initialSeconds * 2 ** (attempt - 1));
  return { retry: true, strategy: policy.strategy, delayMs: Math.round(seconds * 1000), nextAttempt: attempt + 1 };
}
