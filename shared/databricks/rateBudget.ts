import { sleep } from '../http/retry';

/**
 * A token bucket that hands out reservations: each call takes one token now and is told how long to wait
 * before using it (0 when a token was available). Pure given the clock, so waits are exact in tests.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number = ratePerSecond,
    private readonly now: () => number = Date.now,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('TokenBucket: ratePerSecond must be > 0');
    if (!(burst >= 1)) throw new RangeError('TokenBucket: burst must be >= 1');
    this.tokens = burst;
    this.last = now();
  }

  /** Takes a token and returns the wait in ms before it may be used. */
  reserve(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSecond) * 1000);
  }
}

/** Jobs API call classes with separate published limits. */
export type RateClass = 'runNow' | 'runsGet' | 'other';

export interface RateBudgetOptions {
  /** Databricks allows about 20 run-now per second per workspace. */
  runNowPerSecond?: number;
  /** ...and about 100 runs/get per second. */
  runsGetPerSecond?: number;
  otherPerSecond?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const defaultRateBudget = { runNowPerSecond: 20, runsGetPerSecond: 100, otherPerSecond: 30 } as const;

/**
 * The client-side share of one workspace's API limits. Create one per workspace and hand it to every client
 * of that workspace, so that their calls draw from one budget.
 */
export class WorkspaceRateBudget {
  private readonly buckets: Record<RateClass, TokenBucket>;
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: RateBudgetOptions = {}) {
    const now = options.now ?? Date.now;
    this.buckets = {
      runNow: new TokenBucket(options.runNowPerSecond ?? defaultRateBudget.runNowPerSecond, undefined, now),
      runsGet: new TokenBucket(options.runsGetPerSecond ?? defaultRateBudget.runsGetPerSecond, undefined, now),
      other: new TokenBucket(options.otherPerSecond ?? defaultRateBudget.otherPerSecond, undefined, now),
    };
    this.wait = options.sleep ?? sleep;
  }

  /** Ms the caller must wait before a call of this class (the token is taken). */
  reserve(cls: RateClass): number {
    return this.buckets[cls].reserve();
  }

  async acquire(cls: RateClass, signal?: AbortSignal): Promise<void> {
    const ms = this.reserve(cls);
    if (ms > 0) await this.wait(ms, signal);
  }
}
