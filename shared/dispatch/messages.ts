import { z } from 'zod';

/**
 * Control messages on queue run-status (the dispatcher's own clock, as scheduled messages):
 * - flush: dispatch the coalesced batch of one dataset's window;
 * - poll: read one run's state (adaptive interval) until it is terminal;
 * - retry: start the next attempt of a failed run, after the policy's backoff;
 * - start: a direct (Run API) run queued by maxRunsInFlight tries for a run slot again.
 */
export const flushMessage = z.object({
  schema: z.literal('orbiter.dispatch-flush'),
  version: z.literal(1),
  dataset: z.string().min(1),
  /** Window start (ms since epoch) of the batch. */
  bucket: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative().optional(),
});

export const pollMessage = z.object({
  schema: z.literal('orbiter.run-poll'),
  version: z.literal(1),
  runId: z.string().min(1),
  databricksRunId: z.number().int(),
  attempt: z.number().int().min(1),
  polls: z.number().int().nonnegative(),
  /** A one-off poll (from a job notification webhook) that does not continue the polling chain. */
  once: z.boolean().optional(),
  failures: z.number().int().nonnegative().optional(),
});

export const retryMessage = z.object({
  schema: z.literal('orbiter.run-retry'),
  version: z.literal(1),
  runId: z.string().min(1),
  attempt: z.number().int().min(2),
  strategy: z.enum(['repair', 'new-run']),
  /** Consecutive transient failures handling this message (Jobs API or storage down): it is rescheduled with backoff. */
  failures: z.number().int().nonnegative().optional(),
});

export const startMessage = z.object({
  schema: z.literal('orbiter.run-start'),
  version: z.literal(1),
  runId: z.string().min(1),
  /** Times it found no free slot (sets the next re-check's backoff). */
  waits: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative().optional(),
});

export const controlMessage = z.discriminatedUnion('schema', [flushMessage, pollMessage, retryMessage, startMessage]);
export type FlushMessage = z.infer<typeof flushMessage>;
export type PollMessage = z.infer<typeof pollMessage>;
export type RetryMessage = z.infer<typeof retryMessage>;
export type StartMessage = z.infer<typeof startMessage>;
export type ControlMessage = z.infer<typeof controlMessage>;
