import { acceptRunRequest } from '../../../shared/dispatch/accept';
import { BURST_MS, QUIET_MS, bucketOf, graceMs, stillLanding } from '../../../shared/dispatch/coalescing';
import { handleControl } from '../../../shared/dispatch/control';
import type { RunRequest } from '../../../shared/messages/runRequest';
import { parseJobCatalog } from '../../../shared/catalog';
import { blobRequest, fakeDeps, T0, testCatalogInput } from '../../support/dispatchFakes';

const iso = (t: number): string => new Date(t).toISOString();
const W = 2000; // the local stack's window cap

describe('bucketOf', () => {
  const at = T0 + 3500;
  it('puts a request that landed soon after its cycle started in the cycle start’s window', () => {
    expect(bucketOf({ requestedAt: iso(at), cycleStartedAt: iso(T0 + 100) }, W)).toBe(Math.floor((T0 + 100) / W) * W);
  });
  it('uses the request’s own time without a cycle, for a cycle start in the future, or long before it', () => {
    const own = Math.floor(at / W) * W;
    expect(bucketOf({ requestedAt: iso(at) }, W)).toBe(own);
    expect(bucketOf({ requestedAt: iso(at), cycleStartedAt: iso(at + 1) }, W)).toBe(own);
    expect(bucketOf({ requestedAt: iso(at), cycleStartedAt: iso(at - BURST_MS - 1) }, W)).toBe(own);
  });
  it('keeps one batch per request when coalescing is off (window 0)', () => {
    expect(bucketOf({ requestedAt: iso(at), cycleStartedAt: iso(T0) }, 0)).toBe(at);
  });
});

describe('stillLanding', () => {
  const bucket = Math.floor(T0 / W) * W;
  const arrived = (t: number) => ({ acceptedAt: iso(t) });
  it('is ready when every input arrived within its window (the grace covers stragglers, as before)', () => {
    expect(stillLanding([arrived(bucket + W - 1)], bucket, W, new Date(bucket + W + 1))).toBeUndefined();
  });
  it('waits for a burst that lands after its window until it has been quiet for QUIET_MS', () => {
    const last = bucket + W + 700;
    expect(stillLanding([arrived(bucket + 10), arrived(last)], bucket, W, new Date(last + 100))).toEqual(new Date(last + QUIET_MS));
    expect(stillLanding([arrived(last)], bucket, W, new Date(last + QUIET_MS))).toBeUndefined();
  });
  it('never waits past BURST_MS after the window’s end, nor with coalescing off', () => {
    const limit = bucket + W + graceMs(W) + BURST_MS;
    expect(stillLanding([arrived(limit - 100)], bucket, W, new Date(limit - 50))).toEqual(new Date(limit));
    expect(stillLanding([arrived(limit + 10)], bucket, W, new Date(limit + 20))).toBeUndefined();
    expect(stillLanding([arrived(T0)], T0, 0, new Date(T0))).toBeUndefined();
  });
  it('falls back to the landing time, and ignores inputs with neither time', () => {
    expect(stillLanding([{ landedAt: iso(bucket + W + 5) }], bucket, W, new Date(bucket + W + 6))).toEqual(new Date(bucket + W + 5 + QUIET_MS));
    expect(stillLanding([{}], bucket, W, new Date(bucket + W + 6))).toBeUndefined();
  });
});

/**
 * Plays requests reaching the dispatcher (by default when they were made) and control messages delivered at their
 * scheduled times, in time order,
 * as the broker and the triggers would; returns the runs' input counts (largest first) and when the first started.
 */
async function play(
  requests: RunRequest[],
  deliveredAt: (r: RunRequest) => number = (r) => Date.parse(r.requestedAt),
): Promise<{ inputs: number[]; firstRunAt: number }> {
  const now = { t: T0 };
  // Runs here never finish, so the run-slot limit is raised out of the way: this is about batching only.
  const catalog = parseJobCatalog({ ...testCatalogInput, defaults: { ...testCatalogInput.defaults, maxRunsInFlight: 100 } });
  const deps = { ...fakeDeps(now), catalog, maxCoalescingSeconds: W / 1000 };
  const pending = [...requests].sort((a, b) => deliveredAt(a) - deliveredAt(b));
  let firstRunAt = Number.NaN;
  for (let guard = 0; ; guard++) {
    if (guard > 20_000) throw new Error('the control loop did not settle');
    // Flushes only: the runs' polls are not this test's business (the fake runs never finish).
    deps.scheduler.sent.splice(0, deps.scheduler.sent.length, ...deps.scheduler.sent.filter((s) => s.msg.schema === 'orbiter.dispatch-flush'));
    const msg = deps.scheduler.sent.sort((a, b) => a.at.getTime() - b.at.getTime())[0];
    const req = pending[0];
    if (!msg && !req) break;
    if (req && (!msg || deliveredAt(req) <= msg.at.getTime())) {
      pending.shift();
      now.t = Math.max(now.t, deliveredAt(req));
      await acceptRunRequest(req, deps);
    } else {
      deps.scheduler.sent.shift();
      now.t = Math.max(now.t, msg!.at.getTime());
      await handleControl(msg!.msg, deps);
      if (Number.isNaN(firstRunAt) && deps.jobs.runNowCalls > 0) firstRunAt = now.t;
    }
  }
  const runs = [...deps.runs.rows.values()].map((r) => r.record);
  return { inputs: runs.map((r) => r.inputs.length).sort((a, b) => b - a), firstRunAt };
}

describe('a quiet re-check delivered early', () => {
  it('looks again instead of being dropped as a duplicate of itself (the batch is never left without a flush)', async () => {
    const now = { t: T0 };
    const deps = { ...fakeDeps(now), maxCoalescingSeconds: W / 1000 };
    const bucket = Math.floor(T0 / W) * W;
    // A request accepted after its window ended (a redelivery after a host restart): the batch waits to go quiet.
    now.t = bucket + W + 700;
    await acceptRunRequest({ ...blobRequest(1, bucket + 10) }, deps);
    const flushes = () => deps.scheduler.sent.filter((s) => s.msg.schema === 'orbiter.dispatch-flush');
    const first = flushes()[0]!;
    deps.scheduler.sent.length = 0;
    now.t = Math.max(now.t, first.at.getTime());
    await handleControl(first.msg, deps);
    const recheck = flushes()[0]!;
    expect(recheck.at.getTime()).toBe(bucket + W + 700 + QUIET_MS);
    // Delivered 10 ms early: the same quiet time is computed again, and the next look must still be scheduled.
    deps.scheduler.sent.length = 0;
    now.t = recheck.at.getTime() - 10;
    await handleControl(recheck.msg, deps);
    const again = flushes()[0];
    expect(again).toBeDefined();
    expect(again!.at).toEqual(recheck.at);
    deps.scheduler.sent.length = 0;
    now.t = again!.at.getTime();
    await handleControl(again!.msg, deps);
    expect(deps.jobs.runNowCalls).toBe(1);
  });
});

describe('a burst of one ingestion cycle', () => {
  // 365 fireball files (one per year) land over 1.8 s, starting 2.3 s after their cycle started: by their own times
  // they would cross a 2-second window boundary.
  const cycle = Math.floor(T0 / W) * W + 1500;
  const burst = (withCycle: boolean): RunRequest[] =>
    Array.from({ length: 365 }, (_, i) => ({
      ...blobRequest(i, cycle + 2300 + i * 5),
      ...(withCycle ? { cycleStartedAt: iso(cycle) } : {}),
    }));

  it('becomes one run even though it crosses window boundaries', async () => {
    const { inputs, firstRunAt } = await play(burst(true));
    expect(inputs).toEqual([365]);
    // It ran once the burst had been quiet for QUIET_MS, not at the end of the wait's bound.
    expect(firstRunAt).toBe(cycle + 2300 + 364 * 5 + QUIET_MS);
  });

  it('becomes one run when its requests reach the dispatcher in two batches 1.8 s apart', async () => {
    // As seen locally: the dispatcher takes what the queue holds, so the first 80 requests arrive together 0.5 s
    // after the 80th was made, and the rest in the next batch.
    const requests = burst(true);
    const delivered = (r: RunRequest): number => {
      const i = requests.indexOf(r);
      return i < 80 ? cycle + 2300 + 80 * 5 + 500 : cycle + 2300 + 364 * 5 + 900;
    };
    const { inputs } = await play(requests, delivered);
    expect(inputs).toEqual([365]);
  });

  it('is cut at the window edges when its blobs carry no cycle start (files written by others)', async () => {
    const { inputs } = await play(burst(false));
    expect(inputs.length).toBeGreaterThan(1);
    expect(inputs.reduce((a, b) => a + b, 0)).toBe(365);
  });

  it('that never goes quiet still runs within BURST_MS of its window, and every input gets a run', async () => {
    // A backfill landing a file every 200 ms for 90 s: the cycle's batch stops waiting at its bound; the files that
    // land later than BURST_MS after the cycle start coalesce by their own windows.
    const requests = Array.from({ length: 450 }, (_, i) => ({ ...blobRequest(i, cycle + 100 + i * 200), cycleStartedAt: iso(cycle) }));
    const { inputs, firstRunAt } = await play(requests);
    const bucket = Math.floor(cycle / W) * W;
    expect(firstRunAt).toBeLessThanOrEqual(bucket + W + graceMs(W) + BURST_MS);
    expect(inputs.reduce((a, b) => a + b, 0)).toBe(450);
    expect(inputs[0]).toBeGreaterThan(250); // the first minute of the cycle in one run
  });
});
