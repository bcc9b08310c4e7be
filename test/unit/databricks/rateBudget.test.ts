import { TokenBucket, WorkspaceRateBudget } from '../../../shared/databricks/rateBudget';

describe('rate budget', () => {
  it('lets a burst through, then spaces reservations at the refill rate', () => {
    let now = 1_000_000;
    const bucket = new TokenBucket(20, 20, () => now);
    const waits = Array.from({ length: 23 }, () => bucket.reserve());
    expect(waits.slice(0, 20)).toEqual(Array(20).fill(0));
    expect(waits.slice(20)).toEqual([50, 100, 150]);
    now += 1000; // a second later the debt (3 tokens) is repaid and 17 are back
    expect(Array.from({ length: 17 }, () => bucket.reserve())).toEqual(Array(17).fill(0));
    expect(bucket.reserve()).toBe(50);
  });

  it('refills no further than the burst size', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    bucket.reserve();
    bucket.reserve();
    now += 60_000;
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 100]);
  });

  it('keeps separate budgets for run-now (20/s) and runs/get (100/s) by default, configurable', async () => {
    const now = 0;
    const budget = new WorkspaceRateBudget({ now: () => now });
    const runNow = Array.from({ length: 21 }, () => budget.reserve('runNow'));
    const runsGet = Array.from({ length: 101 }, () => budget.reserve('runsGet'));
    expect(runNow[19]).toBe(0);
    expect(runNow[20]).toBe(50);
    expect(runsGet[99]).toBe(0);
    expect(runsGet[100]).toBe(10);

    const slept: number[] = [];
    const small = new WorkspaceRateBudget({ runNowPerSecond: 1, now: () => now, sleep: (ms) => (slept.push(ms), Promise.resolve()) });
    await small.acquire('runNow');
    await small.acquire('runNow');
    expect(slept).toEqual([1000]);
    expect(() => new TokenBucket(0)).toThrow(RangeError);
  });
});
