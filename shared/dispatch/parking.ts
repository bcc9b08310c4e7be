import { newRunRequest, type RunRequest } from '../messages/runRequest';
import { Queues } from '../names';
import type { RunRecord } from '../runs/runStore';
import type { DispatchDeps } from './ports';

/** Why a run's inputs were parked: it failed for good, or it was cancelled (its landed files still need a run). */
export type ParkReason = 'RunFailed' | 'RunCancelled';

/** The dead-letter entry of a failed run: the run request that would run its inputs again, and why it stopped. */
export async function parkFailedRun(rec: RunRecord, attempt: number, description: string, deps: DispatchDeps): Promise<void> {
  await parkRun(rec, attempt, 'RunFailed', description, deps);
}

/** Parks a run's inputs in the dead-letter queue of run-failures with the reason; `orbiter dlq resubmit` runs them again. */
export async function parkRun(rec: RunRecord, attempt: number, reason: ParkReason, description: string, deps: DispatchDeps): Promise<void> {
  const request = newRunRequest({
    requestId: `failed-${rec.runId}`.slice(0, 128),
    dataset: rec.dataset as RunRequest['dataset'],
    origin: 'retry',
    runId: rec.runId,
    inputs: rec.inputs,
    parameters: rec.parameters,
    correlationId: rec.correlationId,
    traceparent: rec.traceparent,
    requestedAt: deps.now().toISOString(),
  });
  await deps.failures.park({ request, attempt, reason, description });
  deps.onEvent?.({ name: 'run.parked', runId: rec.runId, dataset: rec.dataset, entity: Queues.runFailures, reason });
  deps.logger.error(`run ${reason === 'RunCancelled' ? 'cancelled' : 'failed for good'}; parked in the dead-letter queue of run-failures`, {
    runId: rec.runId,
    attempt,
    description,
  });
}
