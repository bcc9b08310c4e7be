import { terminalRunStates, type RunRecord } from 'orbiter/shared/runs/runStore';
import type { Stack } from './stack';

/**
 * Waits until every run the cycle caused is terminal: the coalescing windows have flushed (no new run appears for a
 * few polls) and each run's state is final. Polls the run store; never a fixed sleep.
 */
export async function waitForRuns(
  stack: Stack,
  timeoutMs: number,
  onProgress?: (runs: RunRecord[]) => void,
  /** Called after every poll (a progress view that shows elapsed time and per-task state). */
  onPoll?: (runs: RunRecord[]) => Promise<void>,
): Promise<RunRecord[]> {
  const deadline = Date.now() + timeoutMs;
  const settleMs = (Number(stack.settings['COALESCING_WINDOW_MAX_SECONDS'] ?? 2) + 3) * 1000;
  let lastChange = Date.now();
  let lastKey = '';
  let runs: RunRecord[] = [];
  const started = Date.now();
  while (Date.now() < deadline) {
    runs = (await stack.app.runs().list({ limit: 1000 })).runs;
    const key = runs
      .map((r) => `${r.runId}:${r.state}`)
      .sort()
      .join(',');
    if (key !== lastKey) {
      lastKey = key;
      lastChange = Date.now();
      onProgress?.(runs);
    }
    await onPoll?.(runs);
    // Nothing dispatched a minute after the requests went out: dispatch is failing (the host logs say why).
    if (runs.length === 0 && Date.now() - started > 60_000) return runs;
    const allDone = runs.length > 0 && runs.every((r) => terminalRunStates.includes(r.state));
    if (allDone && Date.now() - lastChange >= settleMs) return runs;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return runs;
}
