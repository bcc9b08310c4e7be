import { createHash } from 'node:crypto';
import { getCatalogDataset, type JobCatalog } from '../catalog';
import { ensureError } from '../errors';
import { runRequestV1, type RunRequest } from '../messages/runRequest';
import type { BatchItem } from './batches';
import { admitDirect } from './admission';
import { windowMsFor } from './flush';
import { bucketOf, flushDue } from './coalescing';
import type { FlushMessage } from './messages';
import type { DispatchDeps } from './ports';

// ---------------------------------------------------------------------------------------------------------------
// run-requests: accepting landed-blob requests into coalescing batches, and Run API requests as runs of their own.

/** One request of a delivered batch. */
export interface AcceptedRequest {
  request: RunRequest;
  /** Its position in the delivered batch, for rejections. */
  index?: number;
}

/** A message that can never be accepted, whatever the retries: it belongs in the dead-letter queue. */
export interface RejectedMessage {
  index: number;
  reason: 'InvalidRunRequest' | 'UnknownDataset' | 'UnknownRun';
  description: string;
}

/**
 * Splits delivered message bodies into run requests and messages that no retry can fix (schema violations, a
 * dataset missing from the job catalog). Rejections are per message, so one bad message never holds up the others.
 */
export function validateRunRequests(
  bodies: readonly unknown[],
  catalog: JobCatalog,
): { valid: { index: number; request: RunRequest }[]; rejected: RejectedMessage[] } {
  const valid: { index: number; request: RunRequest }[] = [];
  const rejected: RejectedMessage[] = [];
  bodies.forEach((body, index) => {
    const parsed = runRequestV1.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
      rejected.push({ index, reason: 'InvalidRunRequest', description: `not a valid orbiter.run-request v1: ${issues.join('; ')}`.slice(0, 1024) });
      return;
    }
    if (!catalog.datasets[parsed.data.dataset]) {
      rejected.push({ index, reason: 'UnknownDataset', description: `dataset "${parsed.data.dataset}" is not in the job catalog` });
      return;
    }
    valid.push({ index, request: parsed.data });
  });
  return { valid, rejected };
}

/** One message from run-requests (see acceptRunRequests). */
export async function acceptRunRequest(req: RunRequest, deps: DispatchDeps): Promise<{ rejected: RejectedMessage[] }> {
  return acceptRunRequests([{ request: req }], deps);
}

/**
 * A delivered batch of run requests. A request with a runId (the Run API) is dispatched as it is once a run slot is free; landed blobs are
 * grouped by (dataset, coalescing bucket): each group's inputs are written to its batch in Table transactions and its
 * flush state is checked (and claimed) once. The handler finishes in a few storage calls and never waits for Databricks.
 *
 * Redelivery is harmless: rows are keyed by input (the same rows are rewritten), the bucket comes from each request's
 * own time (the same batch), and a flush or run is never created twice (marker row, run ids from the input set).
 * On any error the whole call fails after every group has been tried, so the host abandons the whole delivery.
 */
export async function acceptRunRequests(requests: readonly AcceptedRequest[], deps: DispatchDeps): Promise<{ rejected: RejectedMessage[] }> {
  const groups = new Map<string, Group>();
  const direct: AcceptedRequest[] = [];
  const rejected: RejectedMessage[] = [];
  const acceptedAt = deps.now().toISOString();
  for (const accepted of requests) {
    const { request: req } = accepted;
    const entry = getCatalogDataset(deps.catalog, req.dataset);
    if (req.runId) {
      direct.push(accepted);
      continue;
    }
    const windowMs = windowMsFor(deps, entry.coalescingWindowSeconds);
    const bucket = bucketOf(req, windowMs);
    const key = `${req.dataset}|${bucket}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { dataset: req.dataset, bucket, windowMs, items: [], requestIds: [] }));
    g.requestIds.push(req.requestId);
    for (const input of req.inputs) {
      g.items.push({
        input,
        requestId: req.requestId,
        correlationId: req.correlationId,
        ...(req.traceparent ? { traceparent: req.traceparent } : {}),
        ...(req.landedAt ? { landedAt: req.landedAt } : { landedAt: req.requestedAt }),
        acceptedAt,
      });
    }
  }
  const outcomes = await Promise.allSettled([
    ...[...groups.values()].map((g) => acceptGroup(g, deps)),
    ...direct.map(async (a) => {
      const why = await acceptDirect(a.request, deps);
      if (why) rejected.push({ index: a.index ?? -1, reason: 'UnknownRun', description: why });
    }),
  ]);
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => ensureError(o.reason));
  if (failures.length === 1) throw failures[0]!;
  if (failures.length > 1)
    throw new AggregateError(failures, `${failures.length} of ${outcomes.length} run request groups failed: ${failures[0]!.message}`);
  return { rejected };
}

interface Group {
  dataset: string;
  bucket: number;
  windowMs: number;
  items: Omit<BatchItem, 'key' | 'runId'>[];
  requestIds: string[];
}

/**
 * A Run API request: the API wrote its run record before sending, so the record — not the message — says what runs.
 * Whoever else manages to put a message with a runId on the queue cannot create a run that way: no record, no run
 * (the reason is returned, for the dead-letter queue).
 */
async function acceptDirect(req: RunRequest, deps: DispatchDeps): Promise<string | undefined> {
  const stored = await deps.runs.get(req.runId!);
  if (!stored) return `run ${req.runId} has no run record: direct run requests come from the Run API, which records the run first`;
  if (stored.record.dataset !== req.dataset) return `run ${req.runId} is a ${stored.record.dataset} run, not ${req.dataset}`;
  // Queued, not refused, while the dataset has maxRunsInFlight runs in flight.
  if (stored.record.state === 'requested') await admitDirect(stored.record, deps);
  return undefined;
}

async function acceptGroup(g: Group, deps: DispatchDeps): Promise<void> {
  if (g.items.length > 0) await deps.batches.addMany(g.dataset, g.bucket, g.items);
  const flush: FlushMessage = { schema: 'orbiter.dispatch-flush', version: 1, dataset: g.dataset, bucket: g.bucket };
  const due = (): Date => flushDue(g.bucket, g.windowMs, deps.now());
  // Names the follow-up flushes of this group: the request id for one request (as before), a digest for many.
  const tag =
    g.requestIds.length === 1
      ? g.requestIds[0]!
      : createHash('sha256')
          .update([...g.requestIds].sort().join('\n'))
          .digest('hex')
          .slice(0, 16);
  // One flush per batch: the first request schedules it for the window's end plus a grace for stragglers; requests
  // arriving after the flush ran schedule one follow-up per delivered group (they become a run, never lost).
  const flushId = `flush-${g.dataset}-${g.bucket}`;
  const state = await deps.batches.flushState(g.dataset, g.bucket);
  if (state === undefined && (await deps.batches.claimFlush(g.dataset, g.bucket))) {
    await deps.scheduler.schedule(flush, due(), flushId);
    return;
  }
  if ((state ?? (await deps.batches.flushState(g.dataset, g.bucket))) === 'done') {
    await deps.scheduler.schedule(flush, deps.now(), `flush-${g.dataset}-${g.bucket}-late-${tag}`);
    return;
  }
  // The marker says "scheduled", but the delivery that claimed it may have failed before its flush reached the
  // broker (a broker outage between the claim and the send), and its redelivery after a broker restart need not
  // look redelivered. So every group re-sends the flush under the batch's one MessageId: duplicate detection drops
  // it when the first one exists, and it becomes the batch's flush when it does not (issue 16, item 10).
  await deps.scheduler.schedule(flush, due(), flushId);
}
