import { createHash } from 'node:crypto';
import axios from 'axios';
import { blobCreatedEvent } from '@orbiter/functions-host/eventGrid';
import type { SourceId } from '../../../shared/config';
import { rawBlobName } from '../../../shared/lake/rawBlobName';
import { Containers } from '../../../shared/names';
import type { FaultStack } from './faultStack';
import { fileKey } from './runner';

const streams: Record<SourceId, string> = {
  apod: 'apod',
  donki: 'FLR',
  eonet: 'events',
  neows: 'feed',
  epic: 'natural',
  fireball: 'fireball',
  meteorites: 'landings',
  cmr: 'granules',
};

export interface LandedFile {
  name: string;
  etag: string;
  size: number;
  key: string;
}

/** Lands `count` small files for `dataset` in raw/ (content-addressed names, unique content per tag and index). */
export async function landFiles(
  stack: FaultStack,
  dataset: SourceId,
  count: number,
  tag: string,
  opts: { spacingMs?: number } = {},
): Promise<LandedFile[]> {
  const raw = stack.storage.blobs.getContainerClient(Containers.raw);
  const out: LandedFile[] = [];
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(JSON.stringify([{ fault: tag, i }]));
    const sha = createHash('sha256').update(body).digest('hex');
    const name = rawBlobName(dataset, streams[dataset], { start: '2024-05-25', end: '2024-05-31' }, sha, i + 1);
    const res = await raw.getBlockBlobClient(name).upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/json' } });
    out.push({ name, etag: res.etag ?? '', size: body.length, key: fileKey(Containers.raw, name, res.etag ?? '') });
    if (opts.spacingMs) await new Promise((r) => setTimeout(r, opts.spacingMs));
  }
  return out;
}

/** One Event Grid BlobCreated delivery to the host's blobs webhook; resolves with the HTTP status. */
export async function pushBlobCreated(stack: FaultStack, f: LandedFile): Promise<number> {
  const event = blobCreatedEvent({
    accountUrl: stack.azurite.blobEndpoint,
    container: Containers.raw,
    name: f.name,
    etag: f.etag,
    contentLength: f.size,
  });
  const res = await axios.post(`${stack.hostUrl}/runtime/webhooks/eventgrid`, [event], {
    params: { functionName: 'Host.Functions.landedBlob', code: stack.functionKey },
    headers: { 'aeg-event-type': 'Notification', 'content-type': 'application/json' },
    validateStatus: () => true,
    timeout: 60_000,
  });
  return res.status;
}

/** Polls `probe` until it returns something truthy; throws with `what` after `timeoutMs`. Never a fixed sleep. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined | false;
    try {
      v = await probe();
    } catch {
      v = undefined;
    }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
