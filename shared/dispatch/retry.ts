import type { RetryDecision } from '../catalog';
import { OrbiterError } from '../errors';
import { mutateRun, terminalRunStates } from '../runs/runStore';
import type { RunOutcome } from './completion';
import { isTerminal } from './databricksRun';
import { dispatchRun } from './dispatch';
import type { RetryMessage } from './messages';
import { schedulePoll } from './pollSchedule';
import type { DispatchDeps } from './ports';

/** A failed attempt the retry policy runs again: the record says why, and the retry is scheduled after its delay. */
export async function scheduleRetry(
  runId: string,
  attempt: number,
  decision: Extract<RetryDecision, { retry: true }>,
  outcome: RunOutcome,
  now: string,
  deps: DispatchDeps,
): Promise<void> {
  await mutateRun(deps.runs, runId, (r) => ({
    ...r,
    error: `attempt ${attempt} failed (${outcome.terminationType}): ${outcome.error}; retrying`,
    updatedAt: now,
  }));
  await deps.scheduler.schedule(
    { schema: 'orbiter.run-retry', version: 1, runId, attempt: decision.nextAttempt, strategy: decision.strategy },
    new Date(deps.now().getTime() + decision.delayMs),
    `retry-${runId}-a${decision.nextAttempt}`,
  );
  deps.logger.warn('run failed; retry scheduled', {
    runId,
    terminationType: outcome.terminationType,
    nextAttempt: decision.nextAttempt,
    delayMs: decision.delayMs,
  });
}

/** Runs the next attempt: a new run, or a repair of the failed tasks of the same Databricks run. */
export async function retryRun(msg: RetryMessage, deps: DispatchDeps): Promise<void> {
  const stored = await deps.runs.get(msg.runId);
  if (!stored) throw new OrbiterError('NotFound', `retry for unknown run ${msg.runId}`);
  const r = stored.record;
  if (terminalRunStates.includes(r.state) || r.attempt >= msg.attempt) return; // cancelled meanwhile, or already retried
  if (msg.strategy === 'new-run' || !r.databricksRunId) {
    await dispatchRun(r, deps, msg.attempt);
    return;
  }
  const run = await deps.jobs.getRun(r.databricksRunId);
  // A redelivered retry finds the run already repairing: only the polling must continue.
  if (isTerminal(run)) {
    const latest = run.repair_history
      ?.filter((h) => h.type === 'REPAIR')
      .map((h) => h.id ?? 0)
      .sort((a, b) => b - a)[0];
    await deps.jobs.repairRun({ run_id: r.databricksRunId, rerun_all_failed_tasks: true, ...(latest ? { latest_repair_id: latest } : {}) });
  }
  const now = deps.now().toISOString();
  // Poll first, as in dispatchRun: once the record carries the new attempt a redelivered retry does nothing.
  await schedulePoll(deps, { runId: r.runId, databricksRunId: r.databricksRunId, attempt: msg.attempt, polls: 0 });
  await mutateRun(deps.runs, r.runId, (x) => ({ ...x, attempt: msg.attempt, state: 'dispatched', updatedAt: now }));
}
