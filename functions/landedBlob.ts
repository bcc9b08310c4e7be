import type { InvocationContext } from '@azure/functions';
import { contextLogger } from '../shared/logger';
import { createTraceparent } from '../shared/telemetry';
import { Connections, Containers } from '../shared/names';
import type { RunRequest } from '../shared/messages/runRequest';
import { runRequestForBlob } from '../shared/runs/runRequestForBlob';
import type { BlobFunction } from './definition';

export interface LandedBlobDeps {
  /** Sends a validated run request to queue run-requests with this MessageId. */
  sendRunRequest(messageId: string, request: RunRequest): Promise<void>;
  now(): Date;
}

/** Blob (Event Grid source) on the raw zone: each landed blob version becomes one run request. */
export const makeLandedBlob =
  (deps: LandedBlobDeps) =>
  async (blob: Buffer, context: InvocationContext): Promise<unknown> => {
    const meta = context.triggerMetadata ?? {};
    const path = String(meta['blobTrigger'] ?? '');
    const name = path.startsWith(`${Containers.raw}/`) ? path.slice(Containers.raw.length + 1) : String(meta['name'] ?? '');
    const props = (meta['properties'] ?? {}) as { eTag?: string; etag?: string; ETag?: string; lastModified?: string; LastModified?: string };
    const landedAt = props.lastModified ?? props.LastModified;
    const etag = props.eTag ?? props.etag ?? props.ETag ?? '';
    // One trace per landed file: continue the event's trace context, or start one here.
    const traceparent = typeof meta['traceparent'] === 'string' ? meta['traceparent'] : createTraceparent();
    const decision = runRequestForBlob(
      {
        container: Containers.raw,
        name,
        content: blob,
        etag,
        ...(traceparent ? { traceparent } : {}),
        ...(landedAt ? { landedAt: new Date(landedAt).toISOString() } : {}),
      },
      deps.now(),
    );
    const log = contextLogger(context);
    if (decision.kind === 'ignored') {
      log.warn('landed blob not turned into a run request', { reason: decision.reason });
      return decision;
    }
    await deps.sendRunRequest(decision.messageId, decision.request);
    log.info('run request sent', { dataset: decision.request.dataset, blob: name, messageId: decision.messageId });
    return decision;
  };

export const landedBlob = (deps: LandedBlobDeps): BlobFunction => ({
  kind: 'blob',
  name: 'landedBlob',
  path: `${Containers.raw}/{name}`,
  connection: Connections.lake,
  handler: makeLandedBlob(deps),
});
