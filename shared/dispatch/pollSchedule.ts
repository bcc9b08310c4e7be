import type { PollMessage } from './messages';
import type { DispatchDeps } from './ports';

/** Schedules the next poll of a run on run-status. */
export async function schedulePoll(deps: DispatchDeps, p: Omit<PollMessage, 'schema' | 'version'>): Promise<void> {
  // Adaptive: quick at first, doubling every two polls up to the ceiling (stays far inside the runs/get budget).
  const delay = Math.min(deps.pollMaxMs, deps.pollInitialMs * 2 ** Math.floor(p.polls / 2));
  await deps.scheduler.schedule(
    { schema: 'orbiter.run-poll', version: 1, ...p },
    new Date(deps.now().getTime() + delay),
    `poll-${p.runId}-a${p.attempt}-${p.polls}`,
  );
}
