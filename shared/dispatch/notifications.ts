import { createHash } from 'node:crypto';
import type { DispatchDeps } from './ports';

/**
 * A Databricks job notification (webhook) short-cuts the polling wait: it triggers one immediate poll of the run it
 * names. The notification itself is not trusted for the state; runs/get is.
 */
export async function onJobNotification(n: { event_type: string; run: { run_id: number } }, deps: DispatchDeps): Promise<'polled' | 'unknown-run'> {
  const rec = await deps.runs.findByDatabricksRunId(n.run.run_id);
  if (!rec) return 'unknown-run';
  await deps.scheduler.schedule(
    { schema: 'orbiter.run-poll', version: 1, runId: rec.runId, databricksRunId: n.run.run_id, attempt: rec.attempt, polls: 0, once: true },
    deps.now(),
    hookMessageId(rec.runId, rec.attempt, n.run.run_id, n.event_type),
  );
  return 'polled';
}

/**
 * The one-off poll's MessageId: deduplicates repeated notifications of one event. Hashed, since the run id and the
 * event type are unbounded and Service Bus refuses MessageIds over 128 characters.
 */
export function hookMessageId(runId: string, attempt: number, databricksRunId: number, eventType: string): string {
  return `hook-${createHash('sha256').update(`${runId}|a${attempt}|${databricksRunId}|${eventType}`).digest('hex')}`;
}
