import type { BatchItem, BatchStore } from '../../shared/dispatch/batches';
import { inputKey } from '../../shared/dispatch/batches';
import type { CompletionEvent } from '../../shared/dispatch/completionEvent';
import type { CompletionSink, ControlScheduler, DispatchDeps, FailureParking, JobsApi, ParkedRun } from '../../shared/dispatch/ports';
import { manifestBlobName, type ManifestFile, type ManifestRef, type ManifestStore } from '../../shared/dispatch/manifests';
import type { ControlMessage } from '../../shared/dispatch/messages';
import type { SlotRow, SlotRows } from '../../shared/dispatch/slots';
import type { Run, RunOutput } from '../../shared/databricks/schemas';
import { OrbiterError } from '../../shared/errors';
import type { RunRequest } from '../../shared/messages/runRequest';
import { silentLogger } from '../../shared/logger';
import { Containers } from '../../shared/names';
import { runRecordSchema, type RunQuery, type RunRecord, type RunStore, type StoredRun } from '../../shared/runs/runStore';
import { parseJobCatalog } from '../../shared/catalog';

/** Stateful fakes that obey the real rules (ETags, idempotency tokens), not canned answers. */
export class MemoryRunStore implements RunStore {
  readonly rows = new Map<string, StoredRun>();
  private n = 0;
  failNextUpdate = false;
  async get(id: string) {
    return this.rows.get(id);
  }
  async createIfAbsent(record: RunRecord) {
    const cur = this.rows.get(record.runId);
    if (cur) return { created: false, run: cur };
    const run = { record: runRecordSchema.parse(record), etag: `e${++this.n}` };
    this.rows.set(record.runId, run);
    return { created: true, run };
  }
  async update(record: RunRecord, etag: string) {
    if (this.failNextUpdate) {
      this.failNextUpdate = false;
      throw new Error('process killed');
    }
    const cur = this.rows.get(record.runId);
    if (!cur || cur.etag !== etag) throw new OrbiterError('RunConflict', 'conflict', { retryable: true });
    const run = { record: runRecordSchema.parse(record), etag: `e${++this.n}` };
    this.rows.set(record.runId, run);
    return run;
  }
  async findByDatabricksRunId(id: number) {
    return [...this.rows.values()].map((r) => r.record).find((r) => r.databricksRunId === id);
  }
  async list(q: RunQuery) {
    const runs = [...this.rows.values()]
      .map((r) => r.record)
      .filter(
        (r) => (!q.dataset || r.dataset === q.dataset) && (!q.state || r.state === q.state) && (!q.runIdPrefix || r.runId.startsWith(q.runIdPrefix)),
      );
    if (q.newestFirst) runs.sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : a.requestedAt > b.requestedAt ? -1 : a.runId.localeCompare(b.runId)));
    return { runs: runs.slice(0, q.limit ?? 50) };
  }
}

export class MemoryBatchStore implements BatchStore {
  readonly rows = new Map<string, Map<string, BatchItem>>();
  readonly flush = new Map<string, 'scheduled' | 'done'>();
  async flushState(d: string, b: number) {
    return this.flush.get(`${d}|${b}`);
  }
  async claimFlush(d: string, b: number) {
    if (this.flush.has(`${d}|${b}`)) return false;
    this.flush.set(`${d}|${b}`, 'scheduled');
    return true;
  }
  async markFlushed(d: string, b: number) {
    this.flush.set(`${d}|${b}`, 'done');
  }
  async add(dataset: string, bucket: number, item: Omit<BatchItem, 'key' | 'runId'>) {
    const p = this.rows.get(`${dataset}|${bucket}`) ?? new Map<string, BatchItem>();
    this.rows.set(`${dataset}|${bucket}`, p);
    const key = inputKey(item.input);
    p.set(key, { ...item, key, ...(p.get(key)?.runId ? { runId: p.get(key)!.runId } : {}) });
  }
  /** Calls of addMany (one per delivered group), to check that a batch is written in one go. */
  addManyCalls = 0;
  async addMany(dataset: string, bucket: number, items: Omit<BatchItem, 'key' | 'runId'>[]) {
    this.addManyCalls++;
    for (const item of items) await this.add(dataset, bucket, item);
  }
  async items(dataset: string, bucket: number) {
    return [...(this.rows.get(`${dataset}|${bucket}`)?.values() ?? [])];
  }
  async assign(dataset: string, bucket: number, keys: string[], runId: string) {
    for (const k of keys) {
      const it = this.rows.get(`${dataset}|${bucket}`)?.get(k);
      if (it) it.runId = runId;
    }
  }
  readonly deferred = new Set<string>();
  async markDeferred(d: string, b: number) {
    this.deferred.add(`${d}|${b}`);
  }
  async clearDeferred(d: string, b: number) {
    this.deferred.delete(`${d}|${b}`);
  }
  async deferredBuckets(d: string) {
    return [...this.deferred]
      .filter((k) => k.startsWith(`${d}|`))
      .map((k) => Number(k.split('|')[1]))
      .sort((a, b) => a - b);
  }
}

/** Slot rows with the table's rules: insert fails on an existing row, replace and remove need the current ETag. */
export class MemorySlotRows implements SlotRows {
  readonly rows = new Map<string, SlotRow>();
  private n = 0;
  async list(dataset: string) {
    return [...this.rows.entries()].filter(([k]) => k.startsWith(`${dataset}|`)).map(([, r]) => ({ ...r }));
  }
  async create(dataset: string, index: number, holder: string, claimedAt: string) {
    const k = `${dataset}|${index}`;
    if (this.rows.has(k)) return false;
    this.rows.set(k, { index, holder, claimedAt, etag: `s${++this.n}` });
    return true;
  }
  async replace(dataset: string, index: number, holder: string, claimedAt: string, etag: string) {
    const k = `${dataset}|${index}`;
    if (this.rows.get(k)?.etag !== etag) return false;
    this.rows.set(k, { index, holder, claimedAt, etag: `s${++this.n}` });
    return true;
  }
  async remove(dataset: string, index: number, etag: string) {
    const k = `${dataset}|${index}`;
    if (this.rows.get(k)?.etag === etag) this.rows.delete(k);
  }
  holders(dataset: string): string[] {
    return [...this.rows.entries()].filter(([k]) => k.startsWith(`${dataset}|`)).map(([, r]) => r.holder);
  }
}

/** Parked (dead-lettered) runs, deduplicated on (run, attempt) like the queue's duplicate detection. */
export class MemoryParking implements FailureParking {
  readonly parked = new Map<string, ParkedRun>();
  async park(p: ParkedRun) {
    const id = `${p.request.runId}-a${p.attempt}`;
    if (!this.parked.has(id)) this.parked.set(id, p);
  }
  readonly rejected = new Map<string, { messageId: string; body: unknown; reason: string; description: string }>();
  async parkMessage(m: { messageId: string; body: unknown; reason: string; description: string }) {
    if (!this.rejected.has(m.messageId)) this.rejected.set(m.messageId, m);
  }
}

export class FakeJobs implements JobsApi {
  readonly runs = new Map<number, Run & { token?: string; params?: Record<string, string> }>();
  private readonly byToken = new Map<string, number>();
  private next = 100;
  runNowCalls = 0;
  repairs = 0;
  async runNow(req: { job_id: number; job_parameters?: Record<string, string>; idempotency_token?: string }) {
    this.runNowCalls++;
    const existing = req.idempotency_token ? this.byToken.get(req.idempotency_token) : undefined;
    if (existing !== undefined) return { run_id: existing };
    const id = this.next++;
    this.runs.set(id, {
      run_id: id,
      job_id: req.job_id,
      state: { life_cycle_state: 'PENDING' },
      run_page_url: `http://dbx/run/${id}`,
      ...(req.idempotency_token ? { token: req.idempotency_token } : {}),
      ...(req.job_parameters ? { params: req.job_parameters } : {}),
    });
    if (req.idempotency_token) this.byToken.set(req.idempotency_token, id);
    return { run_id: id };
  }
  async getRun(id: number) {
    const r = this.runs.get(id);
    if (!r) throw new OrbiterError('NotFound', `run ${id}`);
    return r;
  }
  /** Task outputs by task run id (runs/get-output); a missing one is a NotFound, like a task that never ran. */
  readonly outputs = new Map<number, RunOutput>();
  async getRunOutput(id: number): Promise<RunOutput> {
    const o = this.outputs.get(id);
    if (!o) throw new OrbiterError('NotFound', `task run ${id}`);
    return o;
  }
  cancelled: number[] = [];
  async cancelRun(id: number) {
    this.cancelled.push(id);
    this.set(id, 'TERMINATED', 'CANCELED');
  }
  async repairRun(req: { run_id: number }) {
    this.repairs++;
    this.set(req.run_id, 'RUNNING');
    return { repair_id: this.repairs };
  }
  set(id: number, lc: string, result?: string, termType?: string) {
    const r = this.runs.get(id)!;
    r.state = { life_cycle_state: lc, ...(result ? { result_state: result } : {}) };
    if (termType) r.status = { state: 'TERMINATED', termination_details: { type: termType, code: 'X', message: 'boom' } };
    if (lc === 'TERMINATED') {
      r.start_time = 1_700_000_000_000;
      r.end_time = 1_700_000_060_000;
    }
  }
}

export class CapturingScheduler implements ControlScheduler {
  readonly sent: { msg: ControlMessage; at: Date; id: string }[] = [];
  private readonly ids = new Set<string>();
  async schedule(msg: ControlMessage, at: Date, id: string) {
    // Like the broker's duplicate detection: the same MessageId inside the window is dropped.
    if (this.ids.has(id)) return;
    this.ids.add(id);
    this.sent.push({ msg, at, id });
  }
  take(): ControlMessage[] {
    return this.sent.splice(0).map((s) => s.msg);
  }
}

export class MemorySink implements CompletionSink {
  readonly written = new Map<string, CompletionEvent>();
  readonly published = new Map<string, CompletionEvent>();
  async write(e: CompletionEvent) {
    this.written.set(`${e.orbiter_run_id}.a${e.attempt}`, e);
  }
  async publish(e: CompletionEvent) {
    this.published.set(`${e.orbiter_run_id}.a${e.attempt}`, e);
  }
}

/** Manifests by run, as the blob store keeps them (same run, same name: a rewrite replaces it). */
export class MemoryManifestStore implements ManifestStore {
  readonly blobs = new Map<string, string>();
  puts = 0;
  async put(runId: string, dataset: string, files: ManifestFile[]): Promise<ManifestRef> {
    this.puts++;
    const path = manifestBlobName(dataset, runId);
    this.blobs.set(path, JSON.stringify({ files }));
    return { container: Containers.events, path };
  }
  /** The stored manifest a ref names; throws like a missing blob when there is none. */
  read(ref: ManifestRef): { files: ManifestFile[] } {
    const body = ref.container === Containers.events ? this.blobs.get(ref.path) : undefined;
    if (body === undefined) throw new OrbiterError('NotFound', `no manifest ${ref.container}/${ref.path}`);
    return JSON.parse(body) as { files: ManifestFile[] };
  }
}

export const testCatalogInput = {
  version: 1,
  defaults: {
    jobParameters: {
      source: { from: 'dataset' },
      lake_root: { from: 'lakeRoot' },
      input_manifest: { from: 'inputManifest' },
      orbiter_run_id: { from: 'runId' },
      traceparent: { from: 'traceparent' },
    },
    userParameters: [],
    coalescingWindowSeconds: 60,
    maxRunsInFlight: 5,
    retryPolicy: { retryOn: { CLOUD_FAILURE: { maxAttempts: 3 } }, strategy: 'repair', backoff: { initialSeconds: 10, maxSeconds: 60 } },
  },
  datasets: { neows: { job: { name: 'orbiter-neows-pipeline' } }, apod: { job: { name: 'orbiter-apod-pipeline' } } },
};
export const testCatalog = parseJobCatalog(testCatalogInput);

export function fakeDeps(now: { t: number }) {
  const deps = {
    runs: new MemoryRunStore(),
    batches: new MemoryBatchStore(),
    slots: new MemorySlotRows(),
    jobs: new FakeJobs(),
    resolveJobId: async (d: string) => (d === 'neows' ? 1 : 2),
    catalog: testCatalog,
    scheduler: new CapturingScheduler(),
    completions: new MemorySink(),
    failures: new MemoryParking(),
    manifests: new MemoryManifestStore(),
    lakeRoot: 'abfss://{zone}@acct.dfs.core.windows.net',
    now: () => new Date(now.t),
    logger: silentLogger,
    pollInitialMs: 1000,
    pollMaxMs: 8000,
  };
  return deps satisfies DispatchDeps;
}

export const T0 = Date.parse('2026-11-24T10:00:05Z');

/** A landed-blob run request for input `i`, requested at `at` (its blob landed 100 ms earlier). */
export function blobRequest(i: number, at = T0, dataset: RunRequest['dataset'] = 'neows'): RunRequest {
  return {
    schema: 'orbiter.run-request',
    version: 1,
    requestId: `req-${dataset}-${i}`,
    dataset,
    origin: 'blob-landed',
    inputs: [{ container: 'raw', path: `${dataset}/feed/2024/05/25/file-${i}.json`, etag: `"0x${i}"` }],
    parameters: {},
    correlationId: `corr-${i}`,
    requestedAt: new Date(at).toISOString(),
    landedAt: new Date(at - 100).toISOString(),
  };
}

/** A direct run request as the Run API sends it: the run record is written first (the dispatcher requires it). */
export async function apiRun<R extends RunRequest>(deps: Pick<DispatchDeps, 'runs' | 'catalog' | 'now'>, req: R): Promise<R> {
  const now = deps.now().toISOString();
  await deps.runs.createIfAbsent({
    runId: req.runId!,
    dataset: req.dataset,
    jobName: deps.catalog.datasets[req.dataset]!.job.name,
    state: 'requested',
    origin: req.origin,
    inputs: req.inputs,
    parameters: req.parameters,
    idempotencyToken: `${req.runId!}-1`,
    correlationId: req.correlationId,
    attempt: 1,
    requestedAt: req.requestedAt,
    updatedAt: now,
  });
  return req;
}
