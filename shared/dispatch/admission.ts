import { getCatalogDataset } from '../catalog';
import { terminalRunStates, type RunRecord } from '../runs/runStore';
import { dispatchRun } from './dispatch';
import type { StartMessage } from './messages';
import type { DispatchDeps } from './ports';
import { claimSlot, freeSlots, releaseSlot, type HolderDone } from './slots';

// Admission under maxRunsInFlight: every run, coalesced or direct, holds a slot from run-now until it finishes.

/** A slot whose run is still `requested` this long after the claim was abandoned (its dispatch never happened). */
const ABANDONED_CLAIM_MS = 10 * 60_000;
/** Re-check interval of a queued direct run (a finishing run wakes it sooner). */
const WAIT_MIN_MS = 2000;
const WAIT_MAX_MS = 60_000;

function holderDone(deps: DispatchDeps): HolderDone {
  return async (holder, claimedAt) => {
    const abandoned = deps.now().getTime() - Date.parse(claimedAt) > ABANDONED_CLAIM_MS;
    const stored = await deps.runs.get(holder);
    // No record yet is a flush between its claim and creating the run record, not a vanished run: taking the slot
    // over then would let two runs past the cap. Only a claim that never got its record for this long is free.
    if (!stored) return abandoned;
    if (terminalRunStates.includes(stored.record.state)) return true;
    return stored.record.state === 'requested' && abandoned;
  };
}

/** Claims a run slot of the dataset for `runId`: false when maxRunsInFlight runs are in flight. */
export async function claimRunSlot(dataset: string, runId: string, deps: DispatchDeps): Promise<boolean> {
  const cap = getCatalogDataset(deps.catalog, dataset).maxRunsInFlight;
  return claimSlot(deps.slots, dataset, runId, cap, holderDone(deps), deps.now());
}

/**
 * A direct (Run API) run: dispatched if a slot is free, else queued — a run-start control message re-checks with
 * backoff, and a finishing run wakes it at once (wakeWaiting). Never refused: it stays `requested` meanwhile.
 */
export async function admitDirect(record: RunRecord, deps: DispatchDeps, waits = 0): Promise<void> {
  if (await claimRunSlot(record.dataset, record.runId, deps)) {
    await dispatchRun(record, deps);
    return;
  }
  const delay = Math.min(WAIT_MAX_MS, WAIT_MIN_MS * 2 ** Math.min(waits, 10));
  const at = new Date(deps.now().getTime() + delay);
  const msg: StartMessage = { schema: 'orbiter.run-start', version: 1, runId: record.runId, waits: waits + 1 };
  await deps.scheduler.schedule(msg, at, `start-${record.runId}-w${waits + 1}`);
  if (waits === 0) deps.logger.info('run queued: max runs in flight reached', { runId: record.runId, dataset: record.dataset });
}

/** run-start: a queued direct run tries for a slot again (cancelled or started meanwhile: nothing to do). */
export async function startWaitingRun(msg: StartMessage, deps: DispatchDeps): Promise<void> {
  const stored = await deps.runs.get(msg.runId);
  if (stored?.record.state !== 'requested') return;
  await admitDirect(stored.record, deps, msg.waits);
}

/**
 * A run finished: its slot is freed, and as many waiting runs as there are free slots are woken, oldest first —
 * batches deferred by maxRunsInFlight (a flush) and queued direct runs (a run-start). Woken ones still claim a slot,
 * so a race between wakers only sends a loser back to waiting.
 */
export async function releaseRunSlot(dataset: string, runId: string, deps: DispatchDeps): Promise<void> {
  const entry = deps.catalog.datasets[dataset] ? getCatalogDataset(deps.catalog, dataset) : undefined;
  if (!entry) return;
  await releaseSlot(deps.slots, dataset, runId);
  const [buckets, queued] = await Promise.all([
    deps.batches.deferredBuckets(dataset),
    deps.runs.list({ dataset, state: 'requested', limit: 1000 }).then((p) => p.runs.filter((r) => r.origin !== 'blob-landed')),
  ]);
  if (buckets.length === 0 && queued.length === 0) return;
  const free = await freeSlots(deps.slots, dataset, entry.maxRunsInFlight, holderDone(deps));
  const now = deps.now();
  const waiting = [
    ...buckets.map((bucket) => ({ at: bucket, bucket })),
    ...queued.map((r) => ({ at: Date.parse(r.requestedAt), runId: r.runId })),
  ].sort((a, b) => a.at - b.at);
  for (const w of waiting.slice(0, free)) {
    if ('bucket' in w && w.bucket !== undefined)
      await deps.scheduler.schedule(
        { schema: 'orbiter.dispatch-flush', version: 1, dataset, bucket: w.bucket },
        now,
        `flush-${dataset}-${w.bucket}-released-${now.getTime()}`,
      );
    else if ('runId' in w && w.runId)
      await deps.scheduler.schedule(
        { schema: 'orbiter.run-start', version: 1, runId: w.runId, waits: 0 },
        now,
        `start-${w.runId}-released-${now.getTime()}`,
      );
  }
}
