import { createHash } from 'node:crypto';
import { getCatalogDataset } from '../catalog';
import { newRunRecord } from '../runs/newRunRecord';
import { claimRunSlot } from './admission';
import { stillLanding } from './coalescing';
import { dispatchRun } from './dispatch';
import { inputKey, type BatchItem } from './batches';
import type { FlushMessage } from './messages';
import type { DispatchDeps } from './ports';

// Coalescing: a batch of landed inputs becomes one run when its window closes (or when a run slot frees up).

/** Inputs per coalesced run: keeps the run record within one table entity; a bigger batch becomes several runs. */
export const MAX_INPUTS_PER_RUN = 1000;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The run-id prefix of a batch's runs: `<dataset>-<bucket as yyyymmddThhmmss>-`. */
const runIdPrefix = (msg: FlushMessage): string => `${msg.dataset}-${new Date(msg.bucket).toISOString().replace(/[-:]/g, '').slice(0, 15)}-`;

/**
 * Runs of this batch left `requested` whose every input is an unassigned row of the batch: stamps the rows with the
 * run and starts it (its run id and idempotency token are unchanged, so a run-now that did happen is found again).
 * True when one was adopted (the caller reads the batch again).
 */
async function adoptOrphanedRuns(msg: FlushMessage, all: readonly BatchItem[], deps: DispatchDeps): Promise<boolean> {
  const unassigned = new Map(all.filter((i) => !i.runId).map((i) => [i.key, i]));
  if (unassigned.size === 0) return false;
  // The set this flush would take anyway computes the same run id, so a concurrent flush's fresh run is simply found.
  const byKey = (a: string, b: string): number => a.localeCompare(b);
  const wouldTake = [...unassigned.keys()].sort(byKey).slice(0, MAX_INPUTS_PER_RUN).join(',');
  const prefix = runIdPrefix(msg);
  const { runs } = await deps.runs.list({ runIdPrefix: prefix, state: 'requested', limit: 1000 });
  for (const run of runs) {
    if (run.origin !== 'blob-landed' || run.dataset !== msg.dataset || !run.runId.startsWith(prefix)) continue;
    const keys = run.inputs.map(inputKey);
    if (keys.length === 0 || !keys.every((k) => unassigned.has(k)) || [...keys].sort(byKey).join(',') === wouldTake) continue;
    deps.logger.warn('adopting a run whose flush was cut short before its rows were stamped', { runId: run.runId, inputs: keys.length });
    await deps.batches.assign(msg.dataset, msg.bucket, keys, run.runId);
    await dispatchRun(run, deps);
    return true;
  }
  return false;
}

/** A dataset's coalescing window in ms, with the deployment-wide cap applied. */
export function windowMsFor(deps: Pick<DispatchDeps, 'maxCoalescingSeconds'>, seconds: number): number {
  return Math.max(0, Math.min(seconds, deps.maxCoalescingSeconds ?? Infinity) * 1000);
}

/**
 * Turns the unassigned inputs of one batch into one run. The run id is a function of that set, so a replayed flush
 * (crash after run-now, before the rows were stamped) computes the same run and the same idempotency token.
 */
export async function flushBatch(msg: FlushMessage, deps: DispatchDeps): Promise<void> {
  const entry = getCatalogDataset(deps.catalog, msg.dataset);
  const all = await deps.batches.items(msg.dataset, msg.bucket);
  // A flush cut short after taking its rows but before run-now left its run `requested`: start it now.
  for (const id of new Set(all.flatMap((i) => (i.runId ? [i.runId] : [])))) {
    const taken = await deps.runs.get(id);
    if (taken?.record.state === 'requested') await dispatchRun(taken.record, deps);
  }
  // A flush cut short after writing its run record but before stamping the rows left a `requested` run that holds a
  // run slot; rows that joined since change the set's run id, so that run would never start and its slot would block
  // the batch. Adopt it: stamp exactly its inputs and start it; the rest waits for its own run.
  if (await adoptOrphanedRuns(msg, all, deps)) return flushBatch(msg, deps);
  const unassigned = all.filter((i) => !i.runId).sort((a, b) => a.key.localeCompare(b.key));
  // A burst still landing: look again once it has gone quiet, so that one run takes all of it.
  const quiet = stillLanding(unassigned, msg.bucket, windowMsFor(deps, entry.coalescingWindowSeconds), deps.now());
  if (quiet) {
    // The id names when this look was taken too: a re-check delivered early (the scheduler sends what is due within
    // 20 ms at once; a broker clock ahead of ours) computes the same quiet time, and under the same id the broker's
    // duplicate detection would drop its next look, leaving the batch with nobody to flush it.
    const id = `flush-${msg.dataset}-${msg.bucket}-quiet-${quiet.getTime()}-at-${deps.now().getTime()}`;
    await deps.scheduler.schedule(msg, quiet, id);
    return;
  }
  const items = unassigned.slice(0, MAX_INPUTS_PER_RUN);
  if (items.length === 0) {
    await deps.batches.markFlushed(msg.dataset, msg.bucket);
    await deps.batches.clearDeferred(msg.dataset, msg.bucket);
    // A request that joined after the read above saw the marker still `scheduled` and left its rows to this flush.
    await followUpIfJoined(msg, deps, 'empty');
    return;
  }
  const runId = `${runIdPrefix(msg)}${sha256(`${msg.dataset}|${msg.bucket}|${items.map((i) => i.key).join(',')}`).slice(0, 12)}`;
  const existing = await deps.runs.get(runId);
  if (!existing && !(await claimRunSlot(msg.dataset, runId, deps))) {
    // Too many runs in flight for this job: the batch waits (and keeps growing: more coalescing). A finishing run
    // releases it at once (releaseRunSlot); the scheduled flush is only the fallback.
    await deps.batches.markDeferred(msg.dataset, msg.bucket);
    const delay = Math.max(5000, windowMsFor(deps, entry.coalescingWindowSeconds));
    const at = new Date(deps.now().getTime() + delay);
    deps.logger.info('run deferred: max runs in flight reached', { dataset: msg.dataset, max: entry.maxRunsInFlight });
    await deps.scheduler.schedule(msg, at, `flush-${msg.dataset}-${msg.bucket}-${at.getTime()}`);
    return;
  }
  const first = items[0]!;
  const firstLandedAt = items
    .map((i) => i.landedAt)
    .filter((x): x is string => !!x)
    .sort()[0];
  const { run, created } = await deps.runs.createIfAbsent(
    newRunRecord({
      runId,
      dataset: msg.dataset,
      jobName: entry.job.name,
      origin: 'blob-landed',
      inputs: items.map((i) => i.input),
      correlationId: first.correlationId,
      traceparent: first.traceparent,
      requestedAt: new Date(msg.bucket).toISOString(),
      updatedAt: deps.now().toISOString(),
      firstLandedAt,
    }),
  );
  if (created) deps.onEvent?.({ name: 'run.requested', runId, dataset: msg.dataset });
  // The rows are stamped before run-now, so a replayed flush never puts them in a second set (see the loop above).
  await deps.batches.assign(
    msg.dataset,
    msg.bucket,
    items.map((i) => i.key),
    runId,
  );
  if (run.record.state === 'requested') await dispatchRun(run.record, deps);
  await deps.batches.markFlushed(msg.dataset, msg.bucket);
  await deps.batches.clearDeferred(msg.dataset, msg.bucket);
  // Rows beyond the per-run cap, and requests that joined while this flush ran (they saw it as still scheduled).
  if (unassigned.length > items.length) await deps.scheduler.schedule(msg, deps.now(), `flush-${msg.dataset}-${msg.bucket}-after-${runId}`);
  else await followUpIfJoined(msg, deps, runId);
}

/** Schedules one more flush of the batch if rows joined it while this one ran (read after the marker said `done`). */
async function followUpIfJoined(msg: FlushMessage, deps: DispatchDeps, tag: string): Promise<void> {
  const left = (await deps.batches.items(msg.dataset, msg.bucket)).filter((i) => !i.runId);
  if (left.length === 0) return;
  const digest = sha256(
    left
      .map((i) => i.key)
      .sort()
      .join(','),
  ).slice(0, 12);
  await deps.scheduler.schedule(msg, deps.now(), `flush-${msg.dataset}-${msg.bucket}-after-${tag}-${digest}`);
}
