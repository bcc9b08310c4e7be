import { ApiRoles, type Caller } from './auth';
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { userParametersSchema, type CatalogDataset, type JobCatalog } from '../catalog';
import type { SourceId } from '../config';
import { newRunRequest, type RunInput, type RunRequest } from '../messages/runRequest';
import { newRunRecord } from '../runs/newRunRecord';
import type { Window } from '../nasa/source';
import { mutateRun, terminalRunStates, type RunQuery, type RunRecord, type RunStore } from '../runs/runStore';
import type { RunQuota } from './quota';
import { backfillWindowDays, blobDate, daysBetween, planWindows, rawPrefixes } from './backfill';
import type { IdempotencyStore, StoredIdempotencyEntry } from './idempotency';
import type { RunReadClient } from './runLogs';
import { ApiError, badRequest, fieldErrors, validationError } from './problem';
import { ApiLimits, createRunBody, listRunsQuery, runIdSchema, type CreateRunResponse, type RunView } from './schemas';

/** Read access to the raw zone: existence checks of explicit inputs, listings for backfills. */
export interface RawZone {
  etagOf(path: string): Promise<string | undefined>;
  list(prefix: string): AsyncIterable<{ name: string; etag: string }>;
}

export interface CancelClient {
  cancelRun(databricksRunId: number): Promise<void>;
}

export interface RunApiDeps {
  runs: RunStore;
  catalog: JobCatalog;
  idempotency: IdempotencyStore;
  /** How long an Idempotency-Key replays its first request (RUN_API_IDEMPOTENCY_TTL_HOURS); after that it starts new runs. */
  idempotencyTtlMs: number;
  /** Per-caller run quota (429 when spent). */
  quota: RunQuota;
  raw: RawZone;
  /** Sends a run-requests message with this MessageId. */
  send(messageId: string, request: RunRequest): Promise<void>;
  jobs(): Promise<CancelClient>;
  /** Jobs API reads of a run's tasks and their outputs (GET /api/runs/{id}/logs). */
  databricks(): Promise<RunReadClient>;
  now(): Date;
  newId?(): string;
}

export interface RequestContext {
  /** Origin (scheme://host) status URLs are built on. */
  baseUrl: string;
  idempotencyKey?: string | null;
  /** Who is calling (auth.ts Caller.id): Idempotency-Keys are scoped per caller, so one caller cannot claim another's. */
  callerId?: string;
  correlationId?: string | null;
  traceparent?: string | null;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const normEtag = (e: string): string => e.replace(/^W\//, '').replace(/"/g, '');
export const statusUrl = (baseUrl: string, runId: string): string => `${baseUrl}/api/runs/${encodeURIComponent(runId)}`;

const idempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'expected 1-200 visible ASCII characters');
const correlationIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/);
const traceparentSchema = z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);

interface PlannedRun {
  runId: string;
  inputs: RunInput[];
  window?: Window;
}

function resolveDataset(catalog: JobCatalog, dataset: string | undefined, job: string | undefined): CatalogDataset {
  if (job !== undefined) {
    const byJob = Object.values(catalog.datasets).find((d) => d.job.name === job);
    if (!byJob) throw badRequest(`job "${job}" is not in the job catalog`, [{ field: 'job', message: 'unknown job' }]);
    if (dataset !== undefined && dataset !== byJob.dataset)
      throw badRequest('dataset and job disagree', [{ field: 'job', message: `is the job of dataset ${byJob.dataset}` }]);
    return byJob;
  }
  const entry = catalog.datasets[dataset ?? ''];
  if (!entry) throw badRequest(`dataset "${dataset}" is not in the job catalog`, [{ field: 'dataset', message: 'unknown dataset' }]);
  return entry;
}

/** A validated POST /api/runs body: the dataset's catalog entry, its typed parameters and the backfill windows. */
interface ValidRunRequest {
  entry: CatalogDataset;
  dataset: SourceId;
  parameters: Record<string, string>;
  inputs: { path: string; etag: string }[];
  /** Backfill windows (from..to); absent for a run of explicit inputs. */
  windows?: Window[];
  from?: string;
  to?: string;
}

/** The Idempotency-Key of a request: its stored hash, the fingerprint a replay must match, and its generation. */
interface IdempotencyClaim {
  keyHash: string;
  fingerprint: string;
  /** 0 at first use, +1 each time the key is used again after it expired. */
  generation: number;
  /** The expired entry this claim replaces (undefined: the key is new). */
  expired?: StoredIdempotencyEntry;
  /** The live entry of an earlier request with this key: this request is its replay. */
  live?: StoredIdempotencyEntry;
}

/** POST /api/runs: validates, records the run(s) as requested and sends one run request per run. */
export async function createRuns(body: unknown, ctx: RequestContext, deps: RunApiDeps): Promise<{ status: 202; body: CreateRunResponse }> {
  const key = parseIdempotencyKey(ctx.idempotencyKey);
  const req = validateRunRequest(body, deps);
  // Charged per run it may start: a backfill fans out to one run per window.
  await deps.quota.charge(ctx.callerId ?? 'function-key', req.windows?.length ?? 1);
  const origin = req.windows ? 'backfill' : 'api';
  const prefix = origin === 'api' ? 'api' : 'bf';
  // Scoped per caller: one caller's key is never another's replay (nor a 409 for them).
  const scoped = key ? `orbiter-run-api|${ctx.callerId ?? 'function-key'}|${key}` : undefined;
  // A replayed key must carry the same request; the answer is then the runs the first request created.
  const claim = scoped ? await idempotencyClaim(scoped, fingerprintOf(req), deps) : undefined;
  // Run ids derive from the key and its generation, so a replay names the same runs and an expired key new ones.
  const keyed = scoped && claim ? (claim.generation === 0 ? scoped : `${scoped}|${claim.generation}`) : undefined;
  const base = keyed ? `${prefix}-${sha256(keyed).slice(0, 32)}` : `${prefix}-${deps.newId?.() ?? randomUUID()}`;
  const replayOf = claim?.live?.runIds;
  // Explicit inputs must exist in exactly that version (checked after the key, so a replay does not depend on it).
  const { plan, skippedWindows } = req.windows
    ? await planBackfill(req, req.windows, base, replayOf, deps)
    : await planInputs(req, base, replayOf, deps);
  const claimed = claim && !replayOf ? await claimKey(claim, plan, deps) : plan;
  const runs = await acceptRuns(claimed, req, origin, base, ctx, deps);
  return respond(runs, req.windows ? skippedWindows : undefined);
}

function parseIdempotencyKey(header: string | null | undefined): string | undefined {
  if (header === undefined || header === null) return undefined;
  const k = idempotencyKeySchema.safeParse(header);
  if (!k.success) throw badRequest('invalid Idempotency-Key header', [{ field: 'header.Idempotency-Key', message: k.error.issues[0]!.message }]);
  return k.data;
}

/** The body against the schema and the job catalog: dataset or job, declared parameters, range, input paths. */
function validateRunRequest(body: unknown, deps: Pick<RunApiDeps, 'catalog' | 'now'>): ValidRunRequest {
  const parsed = createRunBody.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error);
  const b = parsed.data;
  const entry = resolveDataset(deps.catalog, b.dataset, b.job);
  const dataset = entry.dataset as SourceId;

  // Only the parameters the catalog declares, typed as it says; values travel as strings and never build paths.
  const params = userParametersSchema(entry).safeParse(b.parameters ?? {});
  if (!params.success) throw validationError(params.error, 'parameters');
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(params.data)) if (v !== undefined) parameters[k] = String(v);

  const windows = b.from !== undefined && b.to !== undefined ? validateRange(dataset, b.from, b.to, deps.now()) : undefined;
  const inputErrors: { field: string; message: string }[] = [];
  (b.inputs ?? []).forEach((inp, i) => {
    if (!inp.path.startsWith(`${dataset}/`))
      inputErrors.push({ field: `inputs.${i}.path`, message: `must be under ${dataset}/ in the raw container` });
  });
  if (inputErrors.length > 0) throw badRequest('inputs outside the dataset', inputErrors);
  return {
    entry,
    dataset,
    parameters,
    inputs: b.inputs ?? [],
    ...(windows ? { windows } : {}),
    ...(b.from !== undefined ? { from: b.from } : {}),
    ...(b.to !== undefined ? { to: b.to } : {}),
  };
}

/** A backfill range: not reversed, not in the future, within the limits; its windows of the dataset's size. */
function validateRange(dataset: SourceId, from: string, to: string, now: Date): Window[] {
  const today = now.toISOString().slice(0, 10);
  if (from > to) throw badRequest('from is after to', [{ field: 'from', message: 'must not be after to' }]);
  if (to > today) throw badRequest('to is in the future', [{ field: 'to', message: `must not be after today (${today})` }]);
  const days = daysBetween(from, to);
  if (days > ApiLimits.maxRangeDays)
    throw badRequest(`range of ${days} days is too long`, [{ field: 'to', message: `at most ${ApiLimits.maxRangeDays} days from from` }]);
  const windows = planWindows(from, to, backfillWindowDays(dataset));
  if (windows.length > ApiLimits.maxWindows) {
    throw badRequest(`range needs ${windows.length} runs of ${backfillWindowDays(dataset)} day(s); at most ${ApiLimits.maxWindows}`, [
      { field: 'to', message: `at most ${ApiLimits.maxWindows} windows of ${backfillWindowDays(dataset)} day(s) for ${dataset}` },
    ]);
  }
  return windows;
}

/** What makes two requests with the same key the same request. */
function fingerprintOf(req: ValidRunRequest): string {
  return sha256(
    JSON.stringify({
      dataset: req.dataset,
      parameters: Object.entries(req.parameters).sort(),
      inputs: req.inputs.map((i) => [i.path, normEtag(i.etag)]),
      from: req.from,
      to: req.to,
    }),
  );
}

/**
 * What an Idempotency-Key means now: the replay of a live earlier request (a different request with it is a 409),
 * or a new claim — of a key never used, or of one whose entry is older than the expiry (its next generation).
 */
async function idempotencyClaim(
  scoped: string,
  fingerprint: string,
  deps: Pick<RunApiDeps, 'idempotency' | 'idempotencyTtlMs' | 'now'>,
): Promise<IdempotencyClaim> {
  const keyHash = sha256(scoped);
  const seen = await deps.idempotency.get(keyHash);
  if (!seen) return { keyHash, fingerprint, generation: 0 };
  if (deps.now().getTime() - Date.parse(seen.createdAt) >= deps.idempotencyTtlMs)
    return { keyHash, fingerprint, generation: seen.generation + 1, expired: seen };
  if (seen.fingerprint !== fingerprint) throw conflictingKey();
  return { keyHash, fingerprint, generation: seen.generation, live: seen };
}

/** Backfill fan-out: one run per window that has landed data (a replay keeps only the runs it created). */
async function planBackfill(
  req: ValidRunRequest,
  windows: Window[],
  base: string,
  replayOf: string[] | undefined,
  deps: Pick<RunApiDeps, 'raw'>,
): Promise<{ plan: PlannedRun[]; skippedWindows: Window[] }> {
  const byWindow = await collectWindowInputs(deps.raw, req.dataset, windows);
  const all = windows.map((w, i) => ({ runId: `${base}-${w.start.replace(/-/g, '')}`, inputs: byWindow[i]!, window: w }));
  const skippedWindows = all.filter((p) => p.inputs.length === 0).map((p) => p.window);
  let plan = all.filter((p) => p.inputs.length > 0);
  if (replayOf) plan = plan.filter((p) => replayOf.includes(p.runId));
  else if (plan.length === 0)
    throw new ApiError(422, 'no-data', `no landed ${req.dataset} data between ${req.from} and ${req.to}`, [
      { field: 'from', message: 'no raw data in the range' },
    ]);
  return { plan, skippedWindows };
}

/** A run of explicit inputs, each checked against the raw zone (a replay trusts the first request's check). */
async function planInputs(
  req: ValidRunRequest,
  base: string,
  replayOf: string[] | undefined,
  deps: Pick<RunApiDeps, 'raw'>,
): Promise<{ plan: PlannedRun[]; skippedWindows: Window[] }> {
  const inputs: RunInput[] = [];
  if (replayOf) {
    for (const inp of req.inputs) inputs.push({ container: 'raw', path: inp.path, etag: inp.etag });
    return { plan: [{ runId: base, inputs }], skippedWindows: [] };
  }
  const inputErrors: { field: string; message: string }[] = [];
  for (const [i, inp] of req.inputs.entries()) {
    const etag = await deps.raw.etagOf(inp.path);
    if (etag === undefined) inputErrors.push({ field: `inputs.${i}.path`, message: 'no such blob in the raw container' });
    else if (normEtag(etag) !== normEtag(inp.etag))
      inputErrors.push({ field: `inputs.${i}.etag`, message: 'does not match the blob (it changed since)' });
    else inputs.push({ container: 'raw', path: inp.path, etag });
  }
  if (inputErrors.length > 0) throw new ApiError(422, 'inputs-not-found', 'inputs do not match the raw zone', inputErrors);
  return { plan: [{ runId: base, inputs }], skippedWindows: [] };
}

/** Stores the key with its runs; losing a race to the same request answers like a replay of it. */
async function claimKey(claim: IdempotencyClaim, plan: PlannedRun[], deps: Pick<RunApiDeps, 'idempotency' | 'now'>): Promise<PlannedRun[]> {
  const entry = {
    fingerprint: claim.fingerprint,
    runIds: plan.map((p) => p.runId),
    createdAt: deps.now().toISOString(),
    generation: claim.generation,
  };
  const won = claim.expired
    ? await deps.idempotency.replace(claim.keyHash, entry, claim.expired.etag)
    : await deps.idempotency.create(claim.keyHash, entry);
  if (won) return plan;
  // Another request with this key claimed it first: this one is its replay if it is the same request.
  const seen = await deps.idempotency.get(claim.keyHash);
  if (!seen || seen.fingerprint !== claim.fingerprint || seen.generation !== claim.generation) throw conflictingKey();
  return plan.filter((p) => seen.runIds.includes(p.runId));
}

/** Records each planned run as requested and sends its run request while it still is. */
async function acceptRuns(
  plan: PlannedRun[],
  req: ValidRunRequest,
  origin: 'api' | 'backfill',
  base: string,
  ctx: RequestContext,
  deps: RunApiDeps,
): Promise<CreateRunResponse['runs']> {
  const requestedAt = deps.now().toISOString();
  const correlationId = correlationIdSchema.safeParse(ctx.correlationId).data ?? base;
  const traceparent = traceparentSchema.safeParse(ctx.traceparent).data;
  const runs: CreateRunResponse['runs'] = [];
  for (const p of plan) {
    const { run } = await deps.runs.createIfAbsent(
      newRunRecord({
        runId: p.runId,
        dataset: req.dataset,
        jobName: req.entry.job.name,
        origin,
        inputs: p.inputs,
        parameters: req.parameters,
        correlationId,
        traceparent,
        requestedAt,
        updatedAt: requestedAt,
      }),
    );
    // Sent again while the run is still requested: MessageId = run id, so the broker drops a duplicate, and a
    // crash between the record and the send is healed by the client's retry.
    if (run.record.state === 'requested') {
      await deps.send(
        p.runId,
        newRunRequest({
          requestId: p.runId,
          dataset: req.dataset,
          origin,
          runId: p.runId,
          inputs: run.record.inputs,
          window: p.window,
          parameters: run.record.parameters,
          correlationId: run.record.correlationId,
          traceparent: run.record.traceparent,
          requestedAt: run.record.requestedAt,
        }),
      );
    }
    runs.push({
      runId: p.runId,
      statusUrl: statusUrl(ctx.baseUrl, p.runId),
      state: run.record.state,
      inputs: run.record.inputs.length,
      ...(p.window ? { window: p.window } : {}),
    });
  }
  return runs;
}

/** 202 with the first run's status URL, every run, and (for a backfill) the windows without data. */
function respond(runs: CreateRunResponse['runs'], skippedWindows: Window[] | undefined): { status: 202; body: CreateRunResponse } {
  if (runs.length === 0)
    throw new ApiError(409, 'idempotency-key-conflict', 'the runs of this Idempotency-Key could not be found', [
      { field: 'header.Idempotency-Key', message: 'reuse only for the same request' },
    ]);
  return {
    status: 202,
    body: { runId: runs[0]!.runId, statusUrl: runs[0]!.statusUrl, runs, ...(skippedWindows ? { skippedWindows } : {}) },
  };
}

function conflictingKey(): ApiError {
  return new ApiError(409, 'idempotency-key-conflict', 'this Idempotency-Key was used for a different request', [
    { field: 'header.Idempotency-Key', message: 'already used with a different body' },
  ]);
}

async function collectWindowInputs(raw: RawZone, dataset: SourceId, windows: Window[]): Promise<RunInput[][]> {
  const out: RunInput[][] = windows.map(() => []);
  const from = windows[0]!.start;
  const to = windows[windows.length - 1]!.end;
  for (const prefix of rawPrefixes(dataset, from, to)) {
    for await (const b of raw.list(prefix)) {
      const d = blobDate(b.name);
      if (!d || d < from || d > to) continue;
      const i = windows.findIndex((w) => d >= w.start && d <= w.end);
      if (i < 0) continue;
      if (out[i]!.length >= ApiLimits.maxInputsPerWindow) {
        throw new ApiError(
          422,
          'window-too-large',
          `window ${windows[i]!.start}..${windows[i]!.end} has more than ${ApiLimits.maxInputsPerWindow} blobs`,
          [{ field: 'from', message: 'choose a shorter range' }],
        );
      }
      out[i]!.push({ container: 'raw', path: b.name, etag: b.etag });
    }
  }
  return out;
}

export function parseRunId(id: string | undefined): string {
  const r = runIdSchema.safeParse(id ?? '');
  if (!r.success) throw badRequest('invalid run id', fieldErrors(r.error, 'id'));
  return r.data;
}

export function toView(r: RunRecord, baseUrl: string): RunView {
  return {
    runId: r.runId,
    dataset: r.dataset,
    jobName: r.jobName,
    state: r.state,
    origin: r.origin,
    inputs: r.inputs.map((i) => ({ container: i.container, path: i.path, etag: i.etag })),
    parameters: r.parameters,
    attempt: r.attempt,
    correlationId: r.correlationId,
    ...(r.databricksRunId !== undefined ? { databricksRunId: r.databricksRunId } : {}),
    ...(r.databricksRunUrl ? { databricksRunUrl: r.databricksRunUrl } : {}),
    ...(r.resultState ? { resultState: r.resultState } : {}),
    ...(r.terminationCode ? { terminationCode: r.terminationCode } : {}),
    ...(r.terminationType ? { terminationType: r.terminationType } : {}),
    ...(r.error ? { error: r.error } : {}),
    requestedAt: r.requestedAt,
    ...(r.dispatchedAt ? { dispatchedAt: r.dispatchedAt } : {}),
    ...(r.startedAt ? { startedAt: r.startedAt } : {}),
    ...(r.endedAt ? { endedAt: r.endedAt } : {}),
    updatedAt: r.updatedAt,
    statusUrl: statusUrl(baseUrl, r.runId),
    ...(r.tasks ? { tasks: r.tasks } : {}),
  };
}

export async function getRun(id: string | undefined, baseUrl: string, deps: Pick<RunApiDeps, 'runs'>): Promise<RunView> {
  const runId = parseRunId(id);
  const stored = await deps.runs.get(runId);
  if (!stored) throw new ApiError(404, 'run-not-found', `run ${runId} not found`);
  return toView(stored.record, baseUrl);
}

/** The table's continuation token, as an opaque URL-safe cursor; a tampered cursor is a 400, not a storage error. */
const tokenShape = z.strictObject({
  nextPartitionKey: z.string().regex(/^[\x20-\x7e]{1,1024}$/),
  nextRowKey: z
    .string()
    .regex(/^[\x20-\x7e]{1,1024}$/)
    .optional(),
});
export const encodeCursor = (token: string): string => Buffer.from(token, 'base64').toString('base64url');
export function decodeCursor(cursor: string): string {
  try {
    const json = Buffer.from(cursor, 'base64url').toString('utf8');
    const t = tokenShape.parse(JSON.parse(json));
    return Buffer.from(JSON.stringify(t)).toString('base64');
  } catch {
    throw badRequest('invalid cursor', [{ field: 'query.cursor', message: 'not a cursor from a previous page' }]);
  }
}

export async function listRuns(
  query: Record<string, string>,
  baseUrl: string,
  deps: Pick<RunApiDeps, 'runs'>,
): Promise<{ runs: RunView[]; nextCursor?: string; next?: string }> {
  const q = listRunsQuery.safeParse(query);
  if (!q.success) throw validationError(q.error, 'query');
  const { dataset, job, state, since, limit, cursor } = q.data;
  const rq: RunQuery = {
    ...(dataset ? { dataset } : {}),
    ...(job ? { jobName: job } : {}),
    ...(state ? { state } : {}),
    ...(since ? { since: new Date(since).toISOString() } : {}),
    limit: limit ?? ApiLimits.defaultPageSize,
    newestFirst: true,
    ...(cursor ? { continuationToken: decodeCursor(cursor) } : {}),
  };
  // Newest first across pages (the store's time index); a page filtered by state may be short, with a cursor.
  const page = await deps.runs.list(rq);
  const out: { runs: RunView[]; nextCursor?: string; next?: string } = { runs: page.runs.map((r) => toView(r, baseUrl)) };
  if (page.continuationToken) {
    out.nextCursor = encodeCursor(page.continuationToken);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ dataset, job, state, since, limit: limit?.toString() })) if (v) params.set(k, v);
    params.set('cursor', out.nextCursor);
    out.next = `${baseUrl}/api/runs?${params.toString()}`;
  }
  return out;
}

/**
 * POST /api/runs/{id}/cancel: a requested run is cancelled in its record (the dispatcher skips it); a dispatched or
 * running one is cancelled in Databricks (the dispatcher's polling records the final state); a finished one is a 409.
 */
export async function cancelRun(
  id: string | undefined,
  baseUrl: string,
  deps: Pick<RunApiDeps, 'runs' | 'jobs' | 'now'>,
  caller: Caller,
): Promise<{ status: 200 | 202; body: { runId: string; state: RunRecord['state']; cancelRequested: boolean; statusUrl: string } }> {
  const runId = parseRunId(id);
  const stored = await deps.runs.get(runId);
  if (!stored) throw new ApiError(404, 'run-not-found', `run ${runId} not found`);
  // Ingestion runs carry landed files: only an operator may stop them (their inputs are then parked, not lost).
  if (stored.record.origin === 'blob-landed' && !caller.roles.has(ApiRoles.operate))
    throw new ApiError(403, 'forbidden', `run ${runId} is an ingestion run: cancelling it requires app role ${ApiRoles.operate}`);
  // A requested ingestion run is about to be dispatched (its batch flush holds it): cancelling it now would strand
  // its landed files, so the caller retries once it has a Databricks run (then its inputs are parked on cancel).
  if (stored.record.origin === 'blob-landed' && stored.record.state === 'requested') {
    throw new ApiError(
      409,
      'run-not-cancellable',
      `ingestion run ${runId} is being dispatched; retry shortly (a cancelled ingestion run's inputs are parked for resubmission)`,
      [{ field: 'id', message: 'ingestion run not yet dispatched' }],
      { 'retry-after': '2' },
    );
  }
  const url = statusUrl(baseUrl, runId);
  let outcome = 'remote' as 'cancelled' | 'terminal' | 'remote';
  const after = await mutateRun(deps.runs, runId, (r) => {
    if (terminalRunStates.includes(r.state)) {
      outcome = 'terminal';
      return undefined;
    }
    if (r.state === 'requested') {
      outcome = 'cancelled';
      const now = deps.now().toISOString();
      return { ...r, state: 'cancelled', endedAt: now, updatedAt: now, error: 'cancelled through the Run API before dispatch' };
    }
    outcome = 'remote';
    return undefined;
  });
  const rec = after ?? stored.record;
  if (outcome === 'terminal')
    throw new ApiError(409, 'run-finished', `run ${runId} already finished (${rec.state})`, [{ field: 'id', message: `run is ${rec.state}` }]);
  if (outcome === 'cancelled') return { status: 200, body: { runId, state: rec.state, cancelRequested: false, statusUrl: url } };
  if (rec.databricksRunId === undefined) {
    throw new ApiError(
      409,
      'run-not-cancellable',
      `run ${runId} is ${rec.state} but has no Databricks run yet; retry shortly`,
      [{ field: 'id', message: 'not yet cancellable' }],
      {
        'retry-after': '2',
      },
    );
  }
  const jobs = await deps.jobs();
  await jobs.cancelRun(rec.databricksRunId);
  return { status: 202, body: { runId, state: rec.state, cancelRequested: true, statusUrl: url } };
}
