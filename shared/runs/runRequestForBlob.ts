import { createHash } from 'node:crypto';
import { sourceIds, type SourceId } from '../config';
import { lakePathProblem } from '../lake/lakePath';
import { parseRawBlobName } from '../lake/rawBlobName';
import { newRunRequest, type RunRequest } from '../messages/runRequest';
import { Containers } from '../names';

export interface LandedBlob {
  container: string;
  name: string;
  content: Buffer;
  etag: string;
  traceparent?: string;
  /** When the blob was written (its Last-Modified), for landed → run-now latency. */
  landedAt?: string;
}

export type RunRequestDecision = { kind: 'request'; messageId: string; request: RunRequest } | { kind: 'ignored'; reason: string };

/**
 * One landed blob version → one run request. The MessageId is derived from path + content hash, so the broker's
 * duplicate detection drops a second landing of the same bytes (a replayed event, a re-run ingestion).
 */
export function runRequestForBlob(blob: LandedBlob, now: Date): RunRequestDecision {
  if (blob.container !== Containers.raw)
    return { kind: 'ignored', reason: `${blob.container}/${blob.name}: runs read only the ${Containers.raw} container` };
  const pathProblem = lakePathProblem(blob.name);
  if (pathProblem) return { kind: 'ignored', reason: `${blob.container}/${JSON.stringify(blob.name)}: blob path ${pathProblem}` };
  if (blob.content.length === 0) return { kind: 'ignored', reason: `${blob.container}/${blob.name} is empty` };
  const dataset = blob.name.split('/')[0] ?? '';
  if (!(sourceIds as readonly string[]).includes(dataset)) {
    return {
      kind: 'ignored',
      reason: `${blob.container}/${blob.name}: first path segment "${dataset}" is not a known dataset (${sourceIds.join(', ')})`,
    };
  }
  const sha256 = createHash('sha256').update(blob.content).digest('hex');
  const key = createHash('sha256').update(`${blob.container}/${blob.name}|${sha256}`).digest('hex');
  const parsed = parseRawBlobName(blob.name);
  const request = newRunRequest({
    requestId: `blob-${key.slice(0, 32)}`,
    dataset: dataset as SourceId,
    origin: 'blob-landed',
    inputs: [{ container: blob.container, path: blob.name, etag: blob.etag, sha256, size: blob.content.length }],
    window: parsed?.window,
    parameters: {},
    correlationId: `blob-${key.slice(0, 32)}`,
    traceparent: blob.traceparent,
    requestedAt: now.toISOString(),
    landedAt: blob.landedAt,
  });
  return { kind: 'request', messageId: `blob-${key}`, request };
}
