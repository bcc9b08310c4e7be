import { OrbiterError } from '../errors';
import { NETWORK_ERROR_CODES, retryDelayMs, type BackoffPolicy } from '../http/retry';
import { startWaitingRun } from './admission';
import { flushBatch } from './flush';
import type { ControlMessage } from './messages';
import { pollRun } from './poll';
import type { DispatchDeps } from './ports';
import { retryRun } from './retry';

// run-status: routes each control message to its handler and reschedules it after a transient failure.

/**
 * Rescheduling of a control message after a transient failure: the clients' own backoff (full jitter, Retry-After
 * honoured) from 2 s to 5 min, 40 times (hours of outage) before the message is left to the queue's dead-lettering.
 */
const controlBackoff: BackoffPolicy = { maxRetries: 40, baseDelayMs: 2000, maxDelayMs: 300_000 };

export async function handleControl(msg: ControlMessage, deps: DispatchDeps): Promise<void> {
  try {
    switch (msg.schema) {
      case 'orbiter.dispatch-flush':
        return await flushBatch(msg, deps);
      case 'orbiter.run-poll':
        return await pollRun(msg, deps);
      case 'orbiter.run-retry':
        return await retryRun(msg, deps);
      case 'orbiter.run-start':
        return await startWaitingRun(msg, deps);
    }
  } catch (err) {
    // Redelivery alone would spend the queue's few deliveries in seconds and dead-letter the flush or poll, stranding
    // its batch or run during a Jobs API or storage outage: transient failures are rescheduled with backoff instead.
    const failures = (msg.failures ?? 0) + 1;
    if (!isTransient(err) || failures > controlBackoff.maxRetries) throw err;
    const delayMs = retryDelayMs(failures, controlBackoff, (err as { retryAfterMs?: number } | null)?.retryAfterMs);
    const at = new Date(deps.now().getTime() + delayMs);
    deps.logger.warn('control message failed transiently; rescheduled', {
      schema: msg.schema,
      failures,
      delayMs,
      error: String((err as Error)?.message ?? err),
    });
    await deps.scheduler.schedule({ ...msg, failures }, at, `${msg.schema}-${controlKey(msg)}-f${failures}-${at.getTime()}`);
  }
}

function controlKey(msg: ControlMessage): string {
  if (msg.schema === 'orbiter.dispatch-flush') return `${msg.dataset}-${msg.bucket}`;
  if (msg.schema === 'orbiter.run-poll') return `${msg.runId}-a${msg.attempt}-${msg.polls}`;
  if (msg.schema === 'orbiter.run-start') return `${msg.runId}-w${msg.waits}`;
  return `${msg.runId}-a${msg.attempt}`;
}

/** Errors worth waiting out: typed retryable ones, storage 408/429/5xx and network failures. */
export function isTransient(err: unknown): boolean {
  if (err instanceof OrbiterError) return err.retryable;
  const e = err as { retryable?: unknown; statusCode?: unknown; code?: unknown } | null;
  if (e?.retryable === true) return true;
  if (typeof e?.statusCode === 'number') return e.statusCode === 408 || e.statusCode === 429 || e.statusCode >= 500;
  // REQUEST_SEND_ERROR: the Azure SDKs' wrapper of a failed connection.
  return typeof e?.code === 'string' && (NETWORK_ERROR_CODES.has(e.code) || e.code === 'REQUEST_SEND_ERROR');
}
