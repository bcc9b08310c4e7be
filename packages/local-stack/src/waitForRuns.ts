import { terminalRunStates, type RunRecord } from 'orbiter/shared/runs/runStore';
import type { Stack } from './stack';

export interface WaitForRunsOptions {
  /** Called when the set of runs or their states change. */
  onProgress?: (runs: RunRecord[]) => void;
  /** Called after every poll (a progress view that shows elapsed time and per-task state). */
  onPoll?: (runs: RunRecord[]) => Promise<void>;
  /**
   * The run requests the cycle sent. Once the runs' distinct inputs account for all of them, no coalescing window can
   * still hold one, so the wait ends as soon as every run is final instead of after the quiet period.
   */
  expectedInputs?: number;
  /** Clock and pause between polls (tests drive a fake clock). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A run input's identity: the same blob version requested twice is one input. */
const inputKey = (i: RunRecord['inputs'][number]): string => `${i.container}/${i.path}@${i.etag}`;

export function distinctInputs(runs: readonly RunRecord[]): number {
  return new Set(runs.flatMap((r) => r.inputs.map(inputKey))).size;
}

/**
 * Waits until every run the cycle caused is terminal: each run's state is final and either the runs account for every
 * request sent, or no new run appeared for a quiet period longer than a coalescing window (duplicates, or a caller that
 * does not know the count). Polls the run store; never a fixed sleep.
 */
export async function waitForRuns(stack: Stack, timeoutMs: number, o: WaitForRunsOptions = {}): Promise<RunRecord[]> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + timeoutMs;
  const settleMs = (Number(stack.settings['COALESCING_WINDOW_MAX_SECONDS'] ?? 2) + 3) * 1000;
  let lastChange = now();
  let lastKey = '';
  let runs: RunRecord[] = [];
  const started = now();
  while (now() < deadline) {
    runs = (await stack.app.runs().list({ limit: 1000 })).runs;
    const key = runs
      .map((r) => `${r.runId}:${r.state}`)
      .sort()
      .join(',');
    if (key !== lastKey) {
      lastKey = key;
      lastChange = now();
      o.onProgress?.(runs);
    }
    await o.onPoll?.(runs);
    // Nothing dispatched a minute after the requests went out: dispatch is failing (the host logs say why).
    if (runs.length === 0 && now() - started > 60_000) return runs;
    const allDone = runs.length > 0 && runs.every((r) => terminalRunStates.includes(r.state));
    const allAccounted = o.expectedInputs !== undefined && distinctInputs(runs) >= o.expectedInputs;
    if (allDone && (allAccounted || now() - lastChange >= settleMs)) return runs;
    await sleep(1000);
  }
  return runs;
}
