import { createHash } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { Containers, Tables } from '../../shared/names';
import { decodeRunEntity, type RunRecord } from '../../shared/runs/runStore';
import type { Stack } from '@orbiter/local-stack/stack';
import { rawBlobName } from '../../shared/lake/rawBlobName';
import axios from 'axios';
import { blobCreatedEvent } from '@orbiter/functions-host/eventGrid';

/** Every run record in OrbiterRuns (read straight from the table: the benches look at the whole set). */
export async function allRuns(stack: Stack): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  const table = stack.storage.table(Tables.runs);
  try {
    for await (const e of table.listEntities<{ record?: string }>()) if (e.record) out.push(decodeRunEntity(e));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  return out;
}

/** Coalescing batches touched: OrbiterBatches partitions (dataset|bucket) with the time each row was added. */
export async function batchRows(stack: Stack): Promise<{ partition: string; path: string; addedAt: number }[]> {
  const out: { partition: string; path: string; addedAt: number }[] = [];
  const table = stack.storage.table(Tables.batches);
  try {
    for await (const e of table.listEntities<{ input?: string; timestamp?: string }>()) {
      if (e.input === undefined) continue; // the batch's flush marker row
      const input = JSON.parse(String(e.input)) as { path: string };
      out.push({ partition: String(e.partitionKey), path: input.path, addedAt: Date.parse(String(e.timestamp)) });
    }
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  return out;
}

/** A small raw blob with a valid content-addressed name for `dataset`; unique content per (tag, i). */
export function benchBlob(
  dataset: 'apod' | 'donki' | 'eonet' | 'neows' | 'epic' | 'fireball' | 'meteorites' | 'cmr',
  tag: string,
  i: number,
): { name: string; body: Buffer } {
  const streams = {
    apod: 'apod',
    donki: 'FLR',
    eonet: 'events',
    neows: 'feed',
    epic: 'natural',
    fireball: 'fireball',
    meteorites: 'landings',
    cmr: 'granules',
  } as const;
  const body = Buffer.from(JSON.stringify([{ bench: tag, i, at: Date.now() }]));
  const sha = createHash('sha256').update(body).digest('hex');
  return { name: rawBlobName(dataset, streams[dataset], { start: '2024-05-25', end: '2024-05-31' }, sha, i + 1), body };
}

/** Uploads with bounded concurrency; returns when each upload was acknowledged (ms), by blob name. `after` runs per blob (e.g. a push notification). */
export async function uploadAll(
  raw: ContainerClient,
  blobs: { name: string; body: Buffer }[],
  concurrency = 32,
  after?: (name: string, etag: string, size: number) => Promise<void>,
): Promise<Map<string, number>> {
  const at = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, blobs.length) }, async () => {
      while (next < blobs.length) {
        const b = blobs[next++]!;
        const res = await raw.getBlockBlobClient(b.name).upload(b.body, b.body.length, { blobHTTPHeaders: { blobContentType: 'application/json' } });
        at.set(b.name, Date.now());
        await after?.(b.name, res.etag ?? '', b.body.length);
      }
    }),
  );
  return at;
}

export const rawContainer = (stack: Stack): ContainerClient => stack.storage.blobs.getContainerClient(Containers.raw);

/**
 * Event Grid-like push: one BlobCreated notification per blob right after its upload, many in flight (Event Grid
 * delivers in parallel), instead of the local watcher's serial poll loop.
 */
export function pushNotifier(stack: Stack): (name: string, etag: string, size: number) => Promise<void> {
  return async (name, etag, size) => {
    const event = blobCreatedEvent({ accountUrl: stack.azurite.blobEndpoint, container: Containers.raw, name, etag, contentLength: size });
    const res = await axios.post(`${stack.host.url}/runtime/webhooks/eventgrid`, [event], {
      params: { functionName: 'Host.Functions.landedBlob', code: stack.functionKey },
      headers: { 'aeg-event-type': 'Notification', 'content-type': 'application/json' },
      validateStatus: () => true,
      timeout: 120_000,
    });
    if (res.status < 200 || res.status >= 300) throw new Error(`push notification for ${name} answered ${res.status}`);
  };
}

/** Time (ms) each landedBlob invocation was first seen, by blob path (polled every 10 ms from host.invocations). */
export function watchDeliveries(stack: Stack): { seen: Map<string, number>; stop(): void } {
  const seen = new Map<string, number>();
  let index = 0;
  const timer = setInterval(() => {
    const inv = stack.host.invocations;
    for (; index < inv.length; index++) {
      const i = inv[index]!;
      if (i.name !== 'landedBlob' || !i.outcome.ok) continue;
      const path = (i.outcome.result as { request?: { inputs?: { path: string }[] } } | undefined)?.request?.inputs?.[0]?.path;
      if (path && !seen.has(path)) seen.set(path, Date.now());
    }
  }, 10);
  return { seen, stop: () => clearInterval(timer) };
}
