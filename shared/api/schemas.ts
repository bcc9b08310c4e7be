import { z } from 'zod';
import { sourceIds } from '../config';
import { runStates } from '../runs/runStore';

/** Limits of the Run API: bad input above them is a 4xx, never work for the backend. */
export const ApiLimits = {
  maxBodyBytes: 64 * 1024,
  maxInputs: 100,
  maxRangeDays: 366,
  maxWindows: 100,
  /** Inputs one backfill window may collect from the raw zone (a run request message must stay small). */
  maxInputsPerWindow: 500,
  maxPageSize: 100,
  defaultPageSize: 25,
  maxIdempotencyKeyLength: 200,
} as const;

/** Run ids: what the run store and the run-request message accept (also the {id} path segment). */
export const runIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'expected 1-100 characters of A-Z a-z 0-9 _ . -');

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine((s) => {
    const t = Date.parse(`${s}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().startsWith(s);
  }, 'not a real calendar date');

/**
 * A raw-zone blob path: segments of [A-Za-z0-9._-] starting with a letter or digit, so no '..', no leading '/',
 * no scheme, no backslash, no percent-encoding, no control characters. The dataset prefix is checked separately.
 */
const blobPath = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, 'expected a relative blob path of [A-Za-z0-9._-] segments (no "..", no URL)');

export const runInputBody = z.strictObject({
  container: z.literal('raw').describe('inputs are always raw-zone blobs'),
  path: blobPath.describe('blob name inside the raw container, under <dataset>/'),
  etag: z
    .string()
    .regex(/^(W\/)?"?[A-Za-z0-9._-]{1,128}"?$/, 'expected a blob ETag')
    .describe('the exact blob version to process'),
});

export const createRunBody = z
  .strictObject({
    dataset: z.enum(sourceIds).optional().describe('dataset (= source) whose pipeline job runs'),
    job: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,200}$/, 'expected a job name')
      .optional()
      .describe('alternatively, the Databricks job name from the job catalog'),
    parameters: z
      .record(z.string().max(64), z.union([z.string().max(1024), z.number(), z.boolean()]))
      .optional()
      .describe('job parameters the job catalog allows for this dataset (userParameters)'),
    inputs: z.array(runInputBody).min(1).max(ApiLimits.maxInputs).optional().describe('explicit inputs; omit to process the whole dataset'),
    from: isoDate.optional().describe('backfill: first day (inclusive, UTC)'),
    to: isoDate.optional().describe('backfill: last day (inclusive, UTC)'),
  })
  .superRefine((b, ctx) => {
    if (b.dataset === undefined && b.job === undefined) ctx.addIssue({ code: 'custom', path: ['dataset'], message: 'dataset (or job) is required' });
    if ((b.from === undefined) !== (b.to === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.from === undefined ? 'from' : 'to'], message: 'from and to go together' });
    }
    if (b.from !== undefined && b.inputs !== undefined)
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'give either inputs or a date range (from/to), not both' });
  })
  .meta({ id: 'CreateRunRequest' });
export type CreateRunBody = z.infer<typeof createRunBody>;

export const windowSchema = z.object({ start: isoDate, end: isoDate });

export const createdRun = z.object({
  runId: runIdSchema,
  statusUrl: z.string(),
  state: z.enum(runStates),
  window: windowSchema.optional(),
  inputs: z.int().nonnegative().describe('number of inputs'),
});

export const createRunResponse = z
  .object({
    runId: runIdSchema.describe('the first (for a single run: the only) run'),
    statusUrl: z.string(),
    runs: z.array(createdRun),
    skippedWindows: z.array(windowSchema).optional().describe('backfill windows with no landed data: no run requested'),
  })
  .meta({ id: 'CreateRunResponse' });
export type CreateRunResponse = z.infer<typeof createRunResponse>;

/**
 * The public shape of a run. Kept apart from the stored RunRecord on purpose: the API contract must not change when
 * the record does, and internal fields (idempotency token, trace context, lineage hashes) stay out of it.
 */
/** One task of a run's Databricks job run: its state, times, and what its notebook reported. */
export const runTaskView = z
  .object({
    taskKey: z.string(),
    databricksRunId: z.int(),
    dependsOn: z.array(z.string()),
    state: z.string().meta({ description: 'result_state once ended (SUCCESS, FAILED, ...), else life_cycle_state' }),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
    durationMs: z.int().optional(),
    rowsWritten: z.int().optional(),
    quarantined: z.int().optional(),
    quarantineReasons: z.record(z.string(), z.int()).optional(),
    output: z.string().optional().meta({ description: "the notebook's exit value (first 2,000 characters)" }),
    error: z.string().optional(),
  })
  .meta({ id: 'RunTask' });

export const runView = z
  .object({
    runId: runIdSchema,
    dataset: z.string(),
    jobName: z.string(),
    state: z.enum(runStates),
    origin: z.string(),
    inputs: z.array(z.object({ container: z.string(), path: z.string(), etag: z.string() })),
    parameters: z.record(z.string(), z.string()),
    attempt: z.int(),
    correlationId: z.string(),
    databricksRunId: z.int().optional(),
    databricksRunUrl: z.string().optional(),
    resultState: z.string().optional(),
    terminationCode: z.string().optional(),
    terminationType: z.string().optional(),
    error: z.string().optional(),
    requestedAt: z.string(),
    dispatchedAt: z.string().optional(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
    updatedAt: z.string(),
    statusUrl: z.string(),
    /** Recorded when the Databricks run ends. */
    tasks: z.array(runTaskView).optional(),
  })
  .meta({ id: 'Run' });

/** GET /api/runs/{id}/logs: per task, its stdout/stderr (logs), exit value and error, from Jobs API runs/get-output. */
export const runLogsView = z
  .object({
    runId: runIdSchema,
    databricksRunId: z.int(),
    tasks: z.array(
      z.object({
        taskKey: z.string(),
        databricksRunId: z.int(),
        state: z.string(),
        logs: z.string().optional(),
        logsTruncated: z.boolean().optional(),
        output: z.string().optional(),
        error: z.string().optional(),
        errorTrace: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'RunLogs' });
export type RunLogsView = z.infer<typeof runLogsView>;

export const runLogsQuery = z.strictObject({
  task: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
  code: z.string().optional(),
});
export type RunView = z.infer<typeof runView>;

/** Query of GET /api/runs; `code` is the function key (read by the host, ignored here). */
export const listRunsQuery = z
  .strictObject({
    dataset: z.enum(sourceIds).optional(),
    job: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,200}$/, 'expected a job name')
      .optional(),
    state: z.enum(runStates).optional(),
    since: z
      .string()
      .refine(
        (s) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(s) && !Number.isNaN(Date.parse(s)),
        'expected an ISO date or date-time',
      )
      .optional()
      .describe('runs requested at or after this time'),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'expected an integer')
      .transform(Number)
      .pipe(z.int().min(1).max(ApiLimits.maxPageSize))
      .optional(),
    cursor: z
      .string()
      .max(4096)
      .regex(/^[A-Za-z0-9_-]+$/, 'expected an opaque cursor from a previous page')
      .optional(),
    code: z.string().optional(),
  })
  .meta({ id: 'ListRunsQuery' });

export const listRunsResponse = z
  .object({
    runs: z.array(runView),
    nextCursor: z.string().optional(),
    next: z.string().optional().describe('URL of the next page'),
  })
  .meta({ id: 'RunList' });

export const cancelRunResponse = z
  .object({
    runId: runIdSchema,
    state: z.enum(runStates),
    cancelRequested: z.boolean().describe('true when Databricks was asked to cancel a dispatched/running run'),
    statusUrl: z.string(),
  })
  .meta({ id: 'CancelRunResponse' });

export const healthCheck = z.object({
  status: z.enum(['ok', 'fail', 'skipped']),
  durationMs: z.int(),
  reason: z.enum(['timeout', 'error', 'not-configured']).optional(),
});
export const healthResponse = z
  .object({ status: z.enum(['ok', 'degraded']), version: z.string(), checks: z.record(z.string(), healthCheck) })
  .meta({ id: 'Health' });
export type HealthResponse = z.infer<typeof healthResponse>;
