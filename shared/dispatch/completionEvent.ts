import { z } from 'zod';
import { runInput } from '../messages/runRequest';

/**
 * The versioned completion event (notebooks/orbiter_lake/events.py reads exactly this): written to the lake under
 * events/run-completions/date=YYYY-MM-DD/ and published on topic run-events.
 */
export const completionEventV1 = z.object({
  event_version: z.literal(1),
  orbiter_run_id: z.string().min(1),
  job_name: z.string().min(1),
  dataset: z.string().nullable(),
  databricks_run_id: z.number().int(),
  databricks_run_url: z.string().optional(),
  result_state: z.string().min(1),
  termination_code: z.string().nullable(),
  termination_type: z.string().nullable().optional(),
  requested_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string(),
  duration_ms: z.number().int().nullable(),
  inputs: z.array(runInput.pick({ container: true, path: true, etag: true })),
  attempt: z.number().int().min(1),
  correlation_id: z.string(),
  traceparent: z.string().optional(),
  outputs: z.record(z.string(), z.unknown()).optional(),
});
export type CompletionEvent = z.infer<typeof completionEventV1>;

export function completionBlobName(e: CompletionEvent): string {
  return `run-completions/date=${e.ended_at.slice(0, 10)}/${e.orbiter_run_id}.a${e.attempt}.json`;
}
