import { decideRetry, getCatalogDataset } from '../catalog';
import { OrbiterError } from '../errors';
import { mutateRun, terminalRunStates } from '../runs/runStore';
import { completeRun, type RunOutcome } from './completion';
import { finalState, isTerminal } from './databricksRun';
import type { PollMessage } from './messages';
import { parkFailedRun, parkRun } from './parking';
import { schedulePoll } from './pollSchedule';
import type { DispatchDeps } from './ports';
import { scheduleRetry } from './retry';

/** One poll of a run: record its progress and poll again, or, once it ended, retry, park or complete it. */
export async function pollRun(msg: PollMessage, deps: DispatchDeps): Promise<void> {
  const stored = await deps.runs.get(msg.runId);
  if (!stored) throw new OrbiterError('NotFound', `poll for unknown run ${msg.runId}`);
  // A newer attempt supersedes this poll chain; a finished run whose completion went out needs nothing more. A terminal
  // record without `completionPublishedAt` is a finish cut short (process died): it is completed again below.
  if (stored.record.attempt > msg.attempt) return;
  if (
    terminalRunStates.includes(stored.record.state) &&
    (stored.record.completionPublishedAt || stored.record.databricksRunId !== msg.databricksRunId)
  )
    return;
  const run = await deps.jobs.getRun(msg.databricksRunId);
  const now = deps.now().toISOString();
  if (!isTerminal(run)) {
    const lc = run.state?.life_cycle_state ?? '';
    await mutateRun(deps.runs, msg.runId, (r) =>
      lc === 'RUNNING' && r.state !== 'running'
        ? {
            ...r,
            state: 'running',
            lifeCycleState: lc,
            startedAt: r.startedAt ?? (run.start_time ? new Date(run.start_time).toISOString() : now),
            updatedAt: now,
          }
        : r.lifeCycleState !== lc
          ? { ...r, lifeCycleState: lc, updatedAt: now }
          : undefined,
    );
    if (!msg.once) await schedulePoll(deps, { runId: msg.runId, databricksRunId: msg.databricksRunId, attempt: msg.attempt, polls: msg.polls + 1 });
    return;
  }
  const state = finalState(run);
  const details = run.status?.termination_details;
  const terminationType = details?.type ?? (run.state?.life_cycle_state === 'INTERNAL_ERROR' ? 'INTERNAL_ERROR' : undefined);
  const terminationCode = details?.code ?? run.state?.result_state ?? undefined;
  const error = state === 'failed' ? (details?.message ?? run.state?.state_message ?? 'run failed') : undefined;
  const outcome: RunOutcome = { state, terminationType, terminationCode, error };

  if (state === 'failed') {
    const entry = getCatalogDataset(deps.catalog, stored.record.dataset);
    const decision = decideRetry(entry.retryPolicy, terminationType, msg.attempt);
    if (decision.retry) {
      await scheduleRetry(msg.runId, msg.attempt, decision, outcome, now, deps);
      return;
    }
    // Failed for good: the run goes to the dead-letter queue first, so a crash below can only repeat this (deduplicated).
    await parkFailedRun(
      stored.record,
      msg.attempt,
      `${decision.reason}; attempt ${msg.attempt} ended ${terminationType ?? 'FAILED'}${terminationCode ? `/${terminationCode}` : ''}: ${error}`,
      deps,
    );
  }
  if (state === 'cancelled' && stored.record.origin === 'blob-landed') {
    // Every landed file ends in a successful run or a dead letter: a cancelled ingestion run's inputs are parked
    // (before the completion, so a crash can only repeat this, deduplicated), for `orbiter dlq resubmit`.
    await parkRun(
      stored.record,
      msg.attempt,
      'RunCancelled',
      `ingestion run cancelled (attempt ${msg.attempt}, ${terminationCode ?? 'CANCELED'}): its ${stored.record.inputs.length} landed input(s) were not processed`,
      deps,
    );
  }
  await completeRun(stored.record, msg, run, outcome, now, deps);
}
