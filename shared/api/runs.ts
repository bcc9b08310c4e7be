import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { userParametersSchema, type CatalogDataset, type JobCatalog } from '../catalog';
import type { SourceId } from '../config';
import { idempotencyToken } from '../dispatch/dispatcher';
import type { RunInput, RunRequest } from '../messages/runRequest';
import type { Window } from '../nasa/source';
import { mutateRun, terminalRunStates, type RunQuery, type RunRecord, type RunStore } from '../runs/runStore';
import { backfillWindowDays, blobDate, daysBetween, planWindows, rawPrefixes } from './backfill';
import type { IdempotencyStore } from './idempotency';
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
  raw: RawZone;
  /** Sends a run-requests message with this MessageId. */
  send(messageId: string, request: RunRequest): Promise<void>;
  jobs(): Promise<CancelClient>;
  now(): Date;
  newId?(): string;
}

export interface RequestContext {
  /** Origin (scheme://host) status URLs are built on. */
  baseUrl: string;
  idempotencyKey?: string | null;
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

/** POST /api/runs: validates, records the run(s) as requested and sends one run request per run. */
export async function createRuns(body: unknown, ctx: RequestContext, deps: RunApiDeps): Promise<{ status: 202; body: CreateRunResponse }> {
  let key: string | undefined;
  if (ctx.idempotencyKey !== undefined && ctx.idempotencyKey !== null) {
    const k = idempotencyKeySchema.safeParse(ctx.idempotencyKey);
    if (!k.success) throw badRequest('invalid Idempotency-Key header', [{ field: 'header.Idempotency-Key', message: k.error.issues[0]!.message }]);
    key = k.data;
  }
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

  const today = deps.now().toISOString().slice(0, 10);
  let windows: Window[] | undefined;
  if (b.from !== undefined && b.to !== undefined) {
    if (b.from > b.to) throw badRequest('from is after to', [{ field: 'from', message: 'must not be after to' }]);
    if (b.to > today) throw badRequest('to is in the future', [{ field: 'to', message: `must not be after today (${today})` }]);
    const days = daysBetween(b.from, b.to);
    if (days > ApiLimits.maxRangeDays)
      throw badRequest(`range of ${days} days is too long`, [{ field: 'to', message: `at most ${ApiLimits.maxRangeDays} days from from` }]);
    windows = planWindows(b.from, b.to, backfillWindowDays(dataset));
    if (windows.length > ApiLimits.maxWindows) {
      throw badRequest(`range needs ${windows.length} runs of ${backfillWindowDays(dataset)} day(s); at most ${ApiLimits.maxWindows}`, [
        { field: 'to', message: `at most ${ApiLimits.maxWindows} windows of ${backfillWindowDays(dataset)} day(s) for ${dataset}` },
      ]);
    }
  }
  const inputErrors: { field: string; message: string }[] = [];
  (b.inputs ?? []).forEach((inp, i) => {
    if (!inp.path.startsWith(`${dataset}/`))
      inputErrors.push({ field: `inputs.${i}.path`, message: `must be under ${dataset}/ in the raw container` });
  });
  if (inputErrors.length > 0) throw badRequest('inputs outside the dataset', inputErrors);

  const fingerprint = sha256(
    JSON.stringify({
      dataset,
      parameters: Object.entries(parameters).sort(),
      inputs: (b.inputs ?? []).map((i) => [i.path, normEtag(i.etag)]),
      from: b.from,
      to: b.to,
    }),
  );
  const origin = windows ? 'backfill' : 'api';
  const base = key
    ? `${origin === 'api' ? 'api' : 'bf'}-${sha256(`orbiter-run-api|${key}`).slice(0, 32)}`
    : `${origin === 'api' ? 'api' : 'bf'}-${deps.newId?.() ?? randomUUID()}`;

  // A replayed key must carry the same request; the answer is then the runs the first request created.
  const keyHash = key ? sha256(`orbiter-run-api|${key}`) : undefined;
  let replayOf: string[] | undefined;
  if (keyHash) {
    const seen = await deps.idempotency.get(keyHash);
    if (seen) {
      if (seen.fingerprint !== fingerprint) throw conflictingKey();
      replayOf = seen.runIds;
    }
  }

  // Explicit inputs must exist in exactly that version (checked after the key, so a replay does not depend on it).
  let plan: PlannedRun[];
  let skippedWindows: Window[] = [];
  if (windows) {
    const byWindow = await collectWindowInputs(deps.raw, dataset, windows);
    plan = windows.map((w, i) => ({ runId: `${base}-${w.start.replace(/-/g, '')}`, inputs: byWindow[i]!, window: w }));
    skippedWindows = plan.filter((p) => p.inputs.length === 0).map((p) => p.window!);
    plan = plan.filter((p) => p.inputs.length > 0);
    if (replayOf) plan = plan.filter((p) => replayOf.includes(p.runId));
    else if (plan.length === 0)
      throw new ApiError(422, 'no-data', `no landed ${dataset} data between ${b.from} and ${b.to}`, [
        { field: 'from', message: 'no raw data in the range' },
      ]);
  } else {
    const inputs: RunInput[] = [];
    if (!replayOf) {
      for (const [i, inp] of (b.inputs ?? []).entries()) {
        const etag = await deps.raw.etagOf(inp.path);
        if (etag === undefined) inputErrors.push({ field: `inputs.${i}.path`, message: 'no such blob in the raw container' });
        else if (normEtag(etag) !== normEtag(inp.etag))
          inputErrors.push({ field: `inputs.${i}.etag`, message: 'does not match the blob (it changed since)' });
        else inputs.push({ container: 'raw', path: inp.path, etag });
      }
      if (inputErrors.length > 0) throw new ApiError(422, 'inputs-not-found', 'inputs do not match the raw zone', inputErrors);
    } else {
      for (const inp of b.inputs ?? []) inputs.push({ container: 'raw', path: inp.path, etag: inp.etag });
    }
    plan = [{ runId: base, inputs }];
  }

  if (keyHash && !replayOf) {
    const created = await deps.idempotency.create(keyHash, { fingerprint, runIds: plan.map((p) => p.runId), createdAt: deps.now().toISOString() });
    if (!created) {
      // Lost a race with the same key: answer like a replay if it was the same request.
      const seen = await deps.idempotency.get(keyHash);
      if (!seen || seen.fingerprint !== fingerprint) throw conflictingKey();
      plan = plan.filter((p) => seen.runIds.includes(p.runId));
    }
  }

  const requestedAt = deps.now().toISOString();
  const correlationId = correlationIdSchema.safeParse(ctx.correlationId).data ?? base;
  const traceparent = traceparentSchema.safeParse(ctx.traceparent).data;
  const runs: CreateRunResponse['runs'] = [];
  for (const p of plan) {
    const record: RunRecord = {
      runId: p.runId,
      dataset,
      jobName: entry.job.name,
      state: 'requested',
      origin,
      inputs: p.inputs,
      parameters,
      idempotencyToken: idempotencyToken(p.runId, 1),
      correlationId,
      ...(traceparent ? { traceparent } : {}),
      attempt: 1,
      requestedAt,
      updatedAt: requestedAt,
    };
    const { run } = await deps.runs.createIfAbsent(record);
    // Sent again while the run is still requested: MessageId = run id, so the broker drops a duplicate, and a
    // crash between the record and the send is healed by the client's retry.
    if (run.record.state === 'requested') {
      await deps.send(p.runId, {
        schema: 'orbiter.run-request',
        version: 1,
        requestId: p.runId,
        dataset,
        origin,
        runId: p.runId,
        inputs: run.record.inputs,
        ...(p.window ? { window: p.window } : {}),
        parameters: run.record.parameters,
        correlationId: run.record.correlationId,
        ...(run.record.traceparent ? { traceparent: run.record.traceparent } : {}),
        requestedAt: run.record.requestedAt,
      });
    }
    runs.push({
      runId: p.runId,
      statusUrl: statusUrl(ctx.baseUrl, p.runId),
      state: run.record.state,
      inputs: run.record.inputs.length,
      ...(p.window ? { window: p.window } : {}),
    });
  }
  if (runs.length === 0)
    throw new ApiError(409, 'idempotency-key-conflict', 'the runs of this Idempotency-Key could not be found', [
      { field: 'header.Idempotency-Key', message: 'reuse only for the same request' },
    ]);
  return {
    status: 202,
    body: { runId: runs[0]!.runId, statusUrl: runs[0]!.statusUrl, runs, ...(windows ? { skippedWindows } : {}) },
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
    ...(cursor ? { continuationToken: decodeCursor(cursor) } : {}),
  };
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
): Promise<{ status: 200 | 202; body: { runId: string; state: RunRecord['state']; cancelRequested: boolean; statusUrl: string } }> {
  const runId = parseRunId(id);
  const stored = await deps.runs.get(runId);
  if (!stored) throw new ApiError(404, 'run-not-found', `run ${runId} not found`);
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
