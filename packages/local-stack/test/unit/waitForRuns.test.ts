import type { RunRecord } from 'orbiter/shared/runs/runStore';
import type { Stack } from '../../src/stack';
import { distinctInputs, waitForRuns } from '../../src/waitForRuns';

/** Time is a counter the fake sleep advances. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

const input = (path: string, etag = 'e1') => ({ container: 'raw', path, etag });
const run = (runId: string, state: RunRecord['state'], paths: string[]): RunRecord =>
  ({ runId, state, inputs: paths.map((p) => input(p)) }) as unknown as RunRecord;

/** A stack whose run store lists `lists[i]` at the i-th poll (the last one from then on); coalescing window 2 s. */
function stack(lists: RunRecord[][]): { stack: Stack; polls: () => number } {
  let polls = 0;
  const list = async () => ({ runs: lists[Math.min(polls++, lists.length - 1)]! });
  return {
    stack: { settings: { COALESCING_WINDOW_MAX_SECONDS: '2' }, app: { runs: () => ({ list }) } } as unknown as Stack,
    polls: () => polls,
  };
}

describe('waitForRuns', () => {
  it('returns at the first poll where every run is final and the runs account for every request sent', async () => {
    const c = clock();
    const s = stack([
      [run('a', 'running', ['apod/1.json', 'apod/2.json'])],
      [run('a', 'succeeded', ['apod/1.json', 'apod/2.json']), run('b', 'succeeded', ['neows/1.json'])],
    ]);
    const start = c.now();
    const runs = await waitForRuns(s.stack, 60_000, { expectedInputs: 3, ...c });
    expect(runs.map((r) => r.runId)).toEqual(['a', 'b']);
    expect({ polls: s.polls(), waitedMs: c.now() - start }).toEqual({ polls: 2, waitedMs: 1000 });
  });

  it('keeps waiting while a request is not in any run yet, though every listed run is final', async () => {
    const c = clock();
    const done = run('a', 'succeeded', ['apod/1.json']);
    const s = stack([[done], [done], [done], [done, run('b', 'succeeded', ['apod/2.json'])]]);
    const runs = await waitForRuns(s.stack, 60_000, { expectedInputs: 2, ...c });
    expect(runs.map((r) => r.runId)).toEqual(['a', 'b']);
    expect(s.polls()).toBe(4);
  });

  it('falls back to the quiet period when duplicates leave fewer distinct inputs than requests', async () => {
    const c = clock();
    const s = stack([[run('a', 'succeeded', ['apod/1.json', 'apod/1.json'])]]);
    const start = c.now();
    await waitForRuns(s.stack, 60_000, { expectedInputs: 2, ...c });
    // Quiet period: the coalescing cap (2 s) + 3 s.
    expect(c.now() - start).toBe(5000);
  });

  it('counts a blob version once however many runs name it', () => {
    expect(distinctInputs([run('a', 'succeeded', ['x', 'y']), run('b', 'failed', ['y'])])).toBe(2);
  });
});
