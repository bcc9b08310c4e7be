import { z } from 'zod';
import { sourceIds } from '../config';
import { lakePath, rawContainer } from '../lake/lakePath';

/** A raw-zone object a run consumes; the ETag pins the exact version. */
export const runInput = z.object({
  container: rawContainer,
  path: lakePath,
  etag: z.string().min(1),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  size: z.number().int().nonnegative().optional(),
});
export type RunInput = z.infer<typeof runInput>;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** Message on queue run-requests (v1). Producers: the landedBlob trigger and the Run API. */
export const runRequestV1 = z
  .object({
    schema: z.literal('orbiter.run-request'),
    version: z.literal(1),
    requestId: z.string().min(1).max(128),
    dataset: z.enum(sourceIds),
    origin: z.enum(['blob-landed', 'api', 'backfill', 'retry']),
    /**
     * Set by producers that already created the run record (the Run API): the dispatcher runs exactly this run,
     * without coalescing. Absent for landed blobs, which are coalesced per job and window.
     */
    runId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/)
      .optional(),
    /** When the input landed (blob-landed), for landed → run-now latency. */
    landedAt: z.iso.datetime().optional(),
    /**
     * When the ingestion cycle that wrote the input started (blob metadata of Orbiter's ingesters): the inputs of one
     * cycle that land soon after it share a coalescing batch (shared/dispatch/coalescing.ts).
     */
    cycleStartedAt: z.iso.datetime().optional(),
    inputs: z.array(runInput).max(10_000),
    window: z.object({ start: isoDate, end: isoDate }).optional(),
    /** Extra job parameters, already checked against the job catalog by the producer. */
    parameters: z.record(z.string(), z.string()).default({}),
    correlationId: z.string().min(1).max(128),
    traceparent: z
      .string()
      .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
      .optional(),
    requestedAt: z.iso.datetime(),
  })
  // A run reads its own dataset's raw files only (raw/<dataset>/...), whoever sent the request.
  .superRefine((r, ctx) => {
    r.inputs.forEach((input, i) => {
      if (!input.path.startsWith(`${r.dataset}/`))
        ctx.addIssue({ code: 'custom', path: ['inputs', i, 'path'], message: `input must be under ${r.dataset}/ (the request's dataset)` });
    });
  });
export type RunRequest = z.infer<typeof runRequestV1>;

/** What a producer decides about a run request; the envelope and the absent optional fields are filled in here. */
export type RunRequestFields = Omit<RunRequest, 'schema' | 'version' | 'runId' | 'window' | 'traceparent' | 'landedAt' | 'cycleStartedAt'> & {
  runId?: string | undefined;
  window?: RunRequest['window'] | undefined;
  traceparent?: string | undefined;
  landedAt?: string | undefined;
  cycleStartedAt?: string | undefined;
};

/** The one builder of a run request (landed blobs, the Run API, parked failed runs). */
export function newRunRequest(f: RunRequestFields): RunRequest {
  return {
    schema: 'orbiter.run-request',
    version: 1,
    requestId: f.requestId,
    dataset: f.dataset,
    origin: f.origin,
    ...(f.runId ? { runId: f.runId } : {}),
    inputs: f.inputs,
    ...(f.window ? { window: f.window } : {}),
    parameters: f.parameters,
    correlationId: f.correlationId,
    ...(f.traceparent ? { traceparent: f.traceparent } : {}),
    requestedAt: f.requestedAt,
    ...(f.landedAt ? { landedAt: f.landedAt } : {}),
    ...(f.cycleStartedAt ? { cycleStartedAt: f.cycleStartedAt } : {}),
  };
}
