import type { InvocationContext } from '@azure/functions';
import { contextLogger } from '../shared/logger';
import { createTraceparent } from '../shared/telemetry';
import { Containers } from '../shared/names';
import { eventGridEvent, notALanding, parseBlobSubject } from '../shared/lake/blobCreatedEvent';
import type { BlobVersion } from '../shared/lake/blobVersion';
import type { RunRequest } from '../shared/messages/runRequest';
import { runRequestForBlob, type RunRequestDecision } from '../shared/runs/runRequestForBlob';
import type { BlobEventFunction } from './definition';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface LandedBlobDeps {
  /** Sends a validated run request to queue run-requests with this MessageId. */
  sendRunRequest(messageId: string, request: RunRequest): Promise<void>;
  /** The properties of a raw-zone blob (one HEAD, never the content); undefined once deleted. */
  rawBlobVersion(name: string): Promise<BlobVersion | undefined>;
  now(): Date;
}

/**
 * Event Grid BlobCreated on the raw zone: each landed blob version becomes one run request. It reads the blob's
 * properties (ETag, length, the sha256 Orbiter's ingesters put in its metadata), never its content.
 */
export const makeLandedBlob =
  (deps: LandedBlobDeps) =>
  async (event: unknown, context: InvocationContext): Promise<RunRequestDecision> => {
    const log = contextLogger(context);
    const ignore = (reason: string): RunRequestDecision => {
      log.warn('landed blob not turned into a run request', { reason });
      return { kind: 'ignored', reason };
    };
    // A malformed or unrelated event is answered (not retried): redelivering it cannot make it valid.
    const parsed = eventGridEvent.safeParse(event);
    if (!parsed.success) return ignore(`not an Event Grid event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const ev = parsed.data;
    const notLanding = notALanding(ev, Containers.raw);
    if (notLanding) return ignore(notLanding);
    const { name } = parseBlobSubject(ev.subject)!;
    const version = await deps.rawBlobVersion(name);
    if (!version) return ignore(`${Containers.raw}/${name} no longer exists`);
    // One trace per landed file: continue the event's trace context, or start one here.
    const given = ev.data.traceparent;
    const traceparent = given && TRACEPARENT.test(given) ? given : createTraceparent();
    const decision = runRequestForBlob(
      {
        container: Containers.raw,
        name,
        etag: version.etag,
        size: version.size,
        ...(version.sha256 ? { sha256: version.sha256 } : {}),
        ...(traceparent ? { traceparent } : {}),
        ...(version.lastModified ? { landedAt: version.lastModified } : {}),
        ...(version.cycleStartedAt ? { cycleStartedAt: version.cycleStartedAt } : {}),
      },
      deps.now(),
    );
    if (decision.kind === 'ignored') return ignore(decision.reason);
    await deps.sendRunRequest(decision.messageId, decision.request);
    log.info('run request sent', { dataset: decision.request.dataset, blob: name, messageId: decision.messageId });
    return decision;
  };

export const landedBlob = (deps: LandedBlobDeps): BlobEventFunction => ({
  kind: 'blobEvent',
  name: 'landedBlob',
  container: Containers.raw,
  handler: makeLandedBlob(deps),
});
