import { createHash } from 'node:crypto';
import { sourceIds, type SourceId } from '../config';
import { lakePathProblem } from '../lake/lakePath';
import { parseRawBlobName } from '../lake/rawBlobName';
import { newRunRequest, type RunRequest } from '../messages/runRequest';
import { Containers } from '../names';

/** A landed blob version as its properties describe it: landing never reads the content, so 1 KB and 2 GB cost the same. */
export interface LandedBlob {
  container: string;
  name: string;
  etag: string;
  size: number;
  /** From the blob's metadata (Orbiter's ingesters set it); absent for blobs written by others. */
  sha256?: string;
  traceparent?: string;
  /** When the blob was written (its Last-Modified), for landed → run-now latency. */
  landedAt?: string;
  /** From the blob's metadata: when the ingestion cycle that wrote it started. */
  cycleStartedAt?: string;
}

export type RunRequestDecision = { kind: 'request'; messageId: string; request: RunRequest } | { kind: 'ignored'; reason: string };

/**
 * One landed blob version → one run request. The MessageId is derived from the path and the content hash when the
 * blob carries one in its metadata (so a second landing of the same bytes is dropped by the broker's duplicate
 * detection), otherwise from the path and the ETag (a replayed event for the same version is dropped).
 */
export function runRequestForBlob(blob: LandedBlob, now: Date): RunRequestDecision {
  if (blob.container !== Containers.raw)
    return { kind: 'ignored', reason: `${blob.container}/${blob.name}: runs read only the ${Containers.raw} container` };
  const pathProblem = lakePathProblem(blob.name);
  if (pathProblem) return { kind: 'ignored', reason: `${blob.container}/${JSON.stringify(blob.name)}: blob path ${pathProblem}` };
  if (blob.size === 0) return { kind: 'ignored', reason: `${blob.container}/${blob.name} is empty` };
  const dataset = blob.name.split('/')[0] ?? '';
  if (!(sourceIds as readonly string[]).includes(dataset)) {
    return {
      kind: 'ignored',
      reason: `${blob.container}/${blob.name}: first path segment "${dataset}" is not a known dataset (${sourceIds.join(', ')})`,
    };
  }
  const version = blob.sha256 ? blob.sha256 : `etag:${blob.etag}`;
  const key = createHash('sha256').update(`${blob.container}/${blob.name}|${version}`).digest('hex');
  const parsed = parseRawBlobName(blob.name);
  const request = newRunRequest({
    requestId: `blob-${key.slice(0, 32)}`,
    dataset: dataset as SourceId,
    origin: 'blob-landed',
    inputs: [{ container: blob.container, path: blob.name, etag: blob.etag, ...(blob.sha256 ? { sha256: blob.sha256 } : {}), size: blob.size }],
    window: parsed?.window,
    parameters: {},
    correlationId: `blob-${key.slice(0, 32)}`,
    traceparent: blob.traceparent,
    requestedAt: now.toISOString(),
    landedAt: blob.landedAt,
    cycleStartedAt: blob.cycleStartedAt,
  });
  return { kind: 'request', messageId: `blob-${key}`, request };
}
