import { appendFileSync } from 'node:fs';
import axios from 'axios';
import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
import { Containers, Queues, Subscriptions, Tables, Topics } from '../../../shared/names';
import { decodeRunEntity, terminalRunStates, type RunRecord } from '../../../shared/runs/runStore';
import { BlobWatcher } from '@orbiter/functions-host/blobWatcher';
import { peekAll } from '@orbiter/ops/alerts/data';
import type { FaultStack } from './faultStack';
import { fileKey, manifestFiles } from './runner';

/**
 * Everything the suite asserts on, read from the peers themselves: the files in raw/, the Databricks emulator's
 * runs (with the input manifest and orbiter_run_id each was started with), the OrbiterRuns table, dead-letter
 * queues, the queues' remaining messages (scheduled ones included) and the completion events.
 */
export interface DatabricksRunView {
  runId: number;
  jobName: string;
  orbiterRunId: string;
  files: string[];
  lifeCycle: string;
  result?: string;
}

export interface DeadLetter {
  queue: string;
  messageId: string;
  reason: string;
  description: string;
  deliveryCount: number;
  body: unknown;
  files: string[];
}

export interface Snapshot {
  at: number;
  landed: string[];
  runs: DatabricksRunView[];
  records: RunRecord[];
  deadLetters: DeadLetter[];
  /** Messages still in run-requests / run-status (active, locked or scheduled). */
  pending: Record<string, number>;
  completionBlobs: string[];
  /** Completion messages on topic run-events (subscription monitor), by Orbiter run id. */
  published: Record<string, number>;
  /** Landed files whose BlobCreated event the host accepted (the Event Grid stand-in's receipts). */
  delivered: number;
  /** Landed files whose BlobCreated event the watcher has not had accepted yet (no receipt). */
  undelivered: string[];
  /** Where each accepted file sits in OrbiterBatches: its batch, the run that took it, the batch's flush marker. */
  batches: Record<string, { batch: string; runId?: string; flush: string }>;
}

async function peekEntity(bus: ServiceBusClient, queue: string, deadLetter: boolean): Promise<ServiceBusReceivedMessage[]> {
  const r = bus.createReceiver(queue, deadLetter ? { subQueueType: 'deadLetter' } : {});
  try {
    return await peekAll(r, 2000);
  } finally {
    await r.close();
  }
}

function inputFiles(body: unknown): string[] {
  const inputs = (body as { inputs?: { container?: string; path?: string; etag?: string }[] } | null)?.inputs;
  return Array.isArray(inputs) ? inputs.map((i) => fileKey(String(i.container), String(i.path), String(i.etag))) : [];
}

/** Queues whose dead letters count as an accounted-for file (run-failures: runs that failed for good, invalid requests). */
export const deadLetterQueues = [Queues.runRequests, Queues.runStatus, Queues.runFailures];

export async function databricksRuns(stack: FaultStack): Promise<DatabricksRunView[]> {
  const out: DatabricksRunView[] = [];
  let token: string | undefined;
  for (;;) {
    const res = await axios.get<{
      runs?: {
        run_id: number;
        run_name?: string;
        state?: { life_cycle_state?: string; result_state?: string };
        job_parameters?: { name: string; value?: string }[];
      }[];
      has_more?: boolean;
      next_page_token?: string;
    }>(`${stack.databricks.url}/api/2.2/jobs/runs/list`, {
      params: { limit: 25, ...(token ? { page_token: token } : {}) },
      headers: { authorization: `Bearer ${stack.databricks.token}` },
    });
    for (const r of res.data.runs ?? []) {
      const p = Object.fromEntries((r.job_parameters ?? []).map((x) => [x.name, x.value ?? '']));
      out.push({
        runId: r.run_id,
        jobName: r.run_name ?? '',
        orbiterRunId: p['orbiter_run_id'] ?? '',
        files: manifestFiles(p['input_manifest']),
        lifeCycle: r.state?.life_cycle_state ?? '',
        ...(r.state?.result_state ? { result: r.state.result_state } : {}),
      });
    }
    if (!res.data.has_more || !res.data.next_page_token) return out;
    token = res.data.next_page_token;
  }
}

export async function runRecords(stack: FaultStack): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  try {
    for await (const e of stack.storage.table(Tables.runs).listEntities<{ record?: string }>()) if (e.record) out.push(decodeRunEntity(e));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  return out;
}

/**
 * A dead-lettered flush (run-status) stands for its batch's files that no run took: they are accounted for there,
 * and resubmitting the flush would run them.
 */
async function flushFiles(stack: FaultStack, body: unknown): Promise<string[]> {
  const b = (body ?? {}) as { schema?: unknown; dataset?: unknown; bucket?: unknown };
  if (b.schema !== 'orbiter.dispatch-flush') return [];
  const out: string[] = [];
  const filter = `PartitionKey eq '${String(b.dataset)}|${String(b.bucket)}'`;
  for await (const e of stack.storage.table(Tables.batches).listEntities<{ input?: string; runId?: string }>({ queryOptions: { filter } })) {
    if (!e.input || e.runId) continue;
    const i = JSON.parse(e.input) as { container: string; path: string; etag: string };
    out.push(fileKey(i.container, i.path, i.etag));
  }
  return out;
}

export async function deadLetters(stack: FaultStack): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for (const q of deadLetterQueues) {
    const msgs = await peekEntity(stack.bus, q, true);
    for (const m of msgs) {
      out.push({
        queue: q,
        messageId: String(m.messageId ?? ''),
        reason: m.deadLetterReason ?? '',
        description: m.deadLetterErrorDescription ?? '',
        deliveryCount: m.deliveryCount ?? 0,
        body: m.body,
        files: [...inputFiles(m.body), ...(await flushFiles(stack, m.body))],
      });
    }
  }
  return out;
}

export async function landedFiles(stack: FaultStack): Promise<string[]> {
  const out: string[] = [];
  for await (const b of stack.storage.blobs.getContainerClient(Containers.raw).listBlobsFlat())
    out.push(fileKey(Containers.raw, b.name, b.properties.etag ?? ''));
  return out.sort();
}

/** Which datasets a scenario owns: its snapshot ignores the others, so one scenario's failure cannot leak into the next. */
export type Scope = readonly string[] | undefined;

const datasetOfMessage = (body: unknown): string => {
  const b = (body ?? {}) as { dataset?: unknown; runId?: unknown };
  if (typeof b.dataset === 'string') return b.dataset;
  return typeof b.runId === 'string' ? b.runId.split('-')[0]! : '';
};
const datasetOfFile = (f: string): string => f.split('/')[1] ?? '';

export async function snapshot(stack: FaultStack, scope?: Scope): Promise<Snapshot> {
  const mine = (dataset: string): boolean => !scope || scope.includes(dataset);
  const pending: Record<string, number> = {};
  // One after the other: the emulator's management link serves one request at a time per connection.
  for (const q of [Queues.runRequests, Queues.runStatus])
    pending[q] = (await peekEntity(stack.bus, q, false)).filter((m) => mine(datasetOfMessage(m.body))).length;
  const completionBlobs: string[] = [];
  for await (const b of stack.storage.blobs.getContainerClient(Containers.events).listBlobsFlat({ prefix: 'run-completions/' }))
    completionBlobs.push(b.name);
  const records = (await runRecords(stack)).filter((r) => mine(r.dataset));
  const receipts = new Set<string>();
  try {
    for await (const e of stack.storage.table(Tables.blobReceipts).listEntities<{ rowKey: string }>({ queryOptions: { select: ['RowKey'] } }))
      receipts.add(e.rowKey);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  const landed = (await landedFiles(stack)).filter((f) => mine(datasetOfFile(f)));
  const batches: Snapshot['batches'] = {};
  const markers = new Map<string, string>();
  try {
    for await (const e of stack.storage.table(Tables.batches).listEntities<{ input?: string; runId?: string; state?: string }>()) {
      const pk = String(e.partitionKey);
      if (!mine(pk.split('|')[0]!)) continue;
      if (e.rowKey === '~flush') markers.set(pk, String(e.state));
      else if (e.input) {
        const i = JSON.parse(e.input) as { container: string; path: string; etag: string };
        batches[fileKey(i.container, i.path, i.etag)] = { batch: pk, ...(e.runId ? { runId: e.runId } : {}), flush: '' };
      }
    }
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  for (const b of Object.values(batches)) b.flush = markers.get(b.batch) ?? 'none';
  const undelivered = landed.filter((f) => {
    const at = f.lastIndexOf('@');
    const slash = f.indexOf('/');
    return !receipts.has(BlobWatcher.receiptKey(f.slice(0, slash), f.slice(slash + 1, at), f.slice(at + 1)));
  });
  return {
    at: Date.now(),
    landed,
    batches,
    delivered: landed.length - undelivered.length,
    undelivered,
    runs: (await databricksRuns(stack)).filter((r) => mine(r.jobName.replace(/^orbiter-|-pipeline$/g, ''))),
    records,
    deadLetters: (await deadLetters(stack)).filter((d) => mine(datasetOfMessage(d.body)) || d.files.some((f) => mine(datasetOfFile(f)))),
    pending,
    completionBlobs: completionBlobs.filter((b) => records.some((r) => b.includes(`/${r.runId}.a`))),
    published: Object.fromEntries([...(await completionMessages(stack))].filter(([id]) => records.some((r) => r.runId === id))),
  };
}

/** Nothing left to happen: queues drained, every file in a finished run or a dead-letter queue, every record final. */
export function quiescent(s: Snapshot, expectedFiles: number): boolean {
  if (s.landed.length < expectedFiles) return false;
  if (Object.values(s.pending).some((n) => n > 0)) return false;
  if (s.runs.some((r) => !['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'].includes(r.lifeCycle))) return false;
  if (s.records.some((r) => !terminalRunStates.includes(r.state))) return false;
  const done = new Set([...s.runs.filter((r) => r.result === 'SUCCESS').flatMap((r) => r.files), ...s.deadLetters.flatMap((d) => d.files)]);
  return s.landed.every((f) => done.has(f));
}

/**
 * Nothing can happen any more although the system is not quiescent: no message left anywhere (a locked or scheduled
 * one still counts), no Databricks run active, every landed file's event delivered — files still unaccounted for
 * then stay so (a stuck record, a batch nobody will flush).
 */
function stalled(s: Snapshot): boolean {
  return (
    Object.values(s.pending).every((n) => n === 0) &&
    s.runs.every((r) => ['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'].includes(r.lifeCycle)) &&
    s.delivered === s.landed.length
  );
}

const stateKey = (s: Snapshot): string =>
  JSON.stringify([
    s.landed.length,
    s.delivered,
    s.pending,
    s.runs.map((r) => `${r.runId}:${r.lifeCycle}:${r.result ?? ''}`),
    s.records.map((r) => `${r.runId}:${r.state}`),
    s.deadLetters.length,
  ]);

/**
 * Polls until the system is quiescent twice in a row (a second look catches a late duplicate), until it has
 * stalled unchanged for `stallPolls` looks (no point waiting for the deadline), or until nothing has changed for
 * `timeoutMs` (progress — a run finishing, a message consumed — extends the wait, so a busy machine is slower but
 * not wrong; `4 × timeoutMs` caps it); returns the last snapshot either way so the invariants can say what is wrong.
 */
export async function settle(
  stack: FaultStack,
  o: { expectedFiles: number; timeoutMs: number; intervalMs?: number; scope?: Scope; stallPolls?: number },
): Promise<Snapshot & { settled: boolean }> {
  const cap = Date.now() + 4 * o.timeoutMs;
  let deadline = Date.now() + o.timeoutMs;
  let calm = 0;
  let still = 0;
  let lastKey = '';
  let last: Snapshot | undefined;
  for (;;) {
    try {
      last = await snapshot(stack, o.scope);
      calm = quiescent(last, o.expectedFiles) ? calm + 1 : 0;
      if (calm >= 2) return { ...last, settled: true };
      const key = stateKey(last);
      // A message still queued or scheduled (a flush rescheduled with backoff after an outage) will still act: wait
      // for it up to the cap instead of calling a slow recovery a loss.
      if (key !== lastKey || Object.values(last.pending).some((n) => n > 0)) deadline = Math.min(cap, Date.now() + o.timeoutMs);
      still = calm === 0 && last.landed.length >= o.expectedFiles && stalled(last) && key === lastKey ? still + 1 : 0;
      lastKey = key;
      if (still >= (o.stallPolls ?? 4)) return { ...last, settled: false };
    } catch {
      calm = 0; // a peer is restarting: look again
      still = 0;
    }
    if (Date.now() > deadline) return { ...(last ?? (await snapshot(stack, o.scope))), settled: false };
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 1000));
  }
}

/**
 * The suite's contract, per landed file: exactly one successful Databricks run, or a dead-letter queue with a
 * reason — never both, never neither, never two runs, never two Orbiter runs. Per run: a final record that names
 * the Databricks run that really succeeded, and exactly one completion event in the lake.
 */
export function violations(s: Snapshot): string[] {
  const out: string[] = [];
  let lost = 0;
  let unsettled = 0;
  let duplicated = 0;
  // Files without an outcome while messages are still queued or events undelivered may yet run: unsettled, not lost.
  const queued = Object.entries(s.pending).filter(([, n]) => n > 0);
  const waiting = [
    ...queued.map(([q, n]) => `${n} message(s) still on ${q}`),
    ...(s.undelivered.length ? [`${s.undelivered.length} event(s) undelivered`] : []),
  ].join(', ');
  const runsOf = (f: string): DatabricksRunView[] => s.runs.filter((r) => r.files.includes(f));
  const describe = (rs: DatabricksRunView[]): string => rs.map((r) => `${r.runId}(${r.orbiterRunId} ${r.lifeCycle}/${r.result ?? '-'})`).join(', ');
  for (const f of s.landed) {
    const all = runsOf(f);
    const ok = all.filter((r) => r.result === 'SUCCESS');
    const dead = s.deadLetters.filter((d) => d.files.includes(f));
    if (ok.length > 1) out.push(`${f} ran successfully ${ok.length} times: ${describe(ok)}`);
    if (ok.length > 1) duplicated++;
    if (ok.length === 0 && dead.length === 0) {
      if (waiting) unsettled++;
      else lost++;
      const recs = s.records.filter((r) => r.inputs.some((i) => fileKey(i.container, i.path, i.etag) === f));
      const b = s.batches[f];
      const where = b
        ? `batch ${b.batch}, ${b.runId ? `taken by ${b.runId}` : 'unassigned'}, flush marker ${b.flush}`
        : `never accepted into a batch, event ${s.undelivered.includes(f) ? 'not yet accepted by the host (the watcher retries it)' : 'accepted by the host'}`;
      out.push(
        `${f} is ${waiting ? `unsettled (${waiting})` : 'lost'}: no successful run, no dead letter (${where}; runs: ${describe(all) || 'none'}; records: ${recs.map((r) => `${r.runId}=${r.state}`).join(', ') || 'none'})`,
      );
    }
    if (ok.length > 0 && dead.length > 0) out.push(`${f} ran and was also dead-lettered (${dead.map((d) => d.queue).join(', ')})`);
    for (const d of dead) if (!d.reason) out.push(`${f} dead-lettered on ${d.queue} without a reason`);
    const orbiterRuns = new Set(all.map((r) => r.orbiterRunId));
    if (orbiterRuns.size > 1) out.push(`${f} was dispatched under ${orbiterRuns.size} Orbiter runs: ${[...orbiterRuns].join(', ')}`);
  }
  for (const r of s.runs) {
    if (r.files.length === 0) out.push(`Databricks run ${r.runId} (${r.orbiterRunId}) has no input manifest: its files cannot be attributed`);
    const rec = s.records.find((x) => x.runId === r.orbiterRunId);
    if (!rec) out.push(`Databricks run ${r.runId} names Orbiter run ${r.orbiterRunId}, which has no record`);
    else if (r.result === 'SUCCESS' && (rec.state !== 'succeeded' || rec.databricksRunId !== r.runId)) {
      out.push(`Databricks run ${r.runId} succeeded but record ${rec.runId} says ${rec.state} (Databricks run ${rec.databricksRunId ?? 'none'})`);
    }
  }
  for (const rec of s.records) {
    if (!terminalRunStates.includes(rec.state))
      out.push(`record ${rec.runId} is stuck in ${rec.state} (Databricks run ${rec.databricksRunId ?? 'none'})`);
    if (rec.state === 'succeeded') {
      const events = s.completionBlobs.filter((b) => b.endsWith(`/${rec.runId}.a${rec.attempt}.json`));
      if (events.length !== 1) out.push(`record ${rec.runId} succeeded with ${events.length} completion events in the lake (want 1)`);
      // The topic is not de-duplicated (consumers key on the MessageId), so at least one, not exactly one.
      if (!s.published[rec.runId]) out.push(`record ${rec.runId} succeeded but no completion event was published on ${Topics.runEvents}`);
    }
  }
  for (const [q, n] of Object.entries(s.pending)) if (n > 0) out.push(`${n} messages still on ${q}`);
  recordFigures(s, lost, unsettled, duplicated, out.length);
  return out;
}

/**
 * The figures of one check, for `npm run test:faults -- --repeat N` (scripts/test-faults.sh): one JSON line per call
 * appended to $FAULTS_RESULTS, labelled with the running scenario. Nothing is written when the variable is unset.
 */
function recordFigures(s: Snapshot, lost: number, unsettled: number, duplicated: number, violationCount: number): void {
  const file = process.env['FAULTS_RESULTS'];
  if (!file) return;
  const scenario = expect.getState().currentTestName ?? 'unknown';
  const line = {
    scenario,
    files: s.landed.length,
    lost,
    unsettled,
    duplicated,
    violations: violationCount,
    undelivered: s.undelivered.length,
    pending: s.pending,
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** Completion messages on topic run-events (monitor subscription), by Orbiter run id. */
export async function completionMessages(stack: FaultStack): Promise<Map<string, number>> {
  const r = stack.bus.createReceiver(Topics.runEvents, Subscriptions.runEventsMonitor);
  try {
    const counts = new Map<string, number>();
    for (const m of await peekAll(r, 2000)) {
      const id = String((m.body as { orbiter_run_id?: string } | null)?.orbiter_run_id ?? '');
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  } finally {
    await r.close();
  }
}

/** A short, readable account of a snapshot for failure messages. */
export function summary(s: Snapshot): string {
  return JSON.stringify(
    {
      landed: s.landed.length,
      runs: s.runs.map((r) => ({ id: r.runId, orbiter: r.orbiterRunId, files: r.files.length, state: `${r.lifeCycle}/${r.result ?? '-'}` })),
      records: s.records.map((r) => ({ id: r.runId, state: r.state, dbx: r.databricksRunId, inputs: r.inputs.length })),
      deadLetters: s.deadLetters.map((d) => ({ queue: d.queue, id: d.messageId, reason: d.reason, files: d.files.length })),
      pending: s.pending,
      undelivered: s.undelivered.length,
      completions: s.completionBlobs.length,
    },
    null,
    1,
  );
}

/** The suite's assertion: the scoped files settle, and the contract (`violations`) holds; the snapshot is printed if not. */
export async function expectExactlyOnce(stack: FaultStack, scope: string[], expectedFiles: number, timeoutMs = 45_000): Promise<void> {
  const s = await settle(stack, { expectedFiles, timeoutMs, scope });
  const v = violations(s);
  if (v.length) console.log(`${scope.join(',')}: ${summary(s)}`);
  expect(v).toEqual([]);
  expect(s.settled).toBe(true);
}
