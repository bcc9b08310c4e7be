import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobFunction } from 'orbiter/functions/definition';
import { ensureError } from 'orbiter/shared/errors';
import type { StorageClients } from 'orbiter/shared/storage/clients';
import { restStatus } from 'orbiter/shared/storage/restStatus';
import { completedWriteApis, eventGridBatch, parseBlobSubject } from './eventGrid';
import { readBody, readStream, send } from './httpIo';
import type { Invoker } from './invoker';

export interface BlobWebhookOptions {
  definitions: readonly BlobFunction[];
  storage: StorageClients;
  invoker: Invoker;
  authorized(req: IncomingMessage, url: URL): boolean;
}

/** The blobs extension webhook, as Event Grid calls it (subscription validation, then notifications). */
export async function handleBlobWebhook(req: IncomingMessage, res: ServerResponse, url: URL, o: BlobWebhookOptions): Promise<void> {
  if (!o.authorized(req, url)) {
    res.writeHead(401).end();
    return;
  }
  const fn = (url.searchParams.get('functionName') ?? '').replace(/^Host\.Functions\./, '');
  const def = o.definitions.find((d) => d.name === fn);
  if (!def) return send(res, 404, { error: `no blob function named ${fn}` });
  const raw = await readBody(req, 1024 * 1024);
  if (raw === 'too-large') return send(res, 413, { error: 'event batch too large' });
  let batch;
  try {
    batch = eventGridBatch.parse(JSON.parse(raw.toString('utf8')));
  } catch (err) {
    return send(res, 400, { error: `invalid Event Grid batch: ${ensureError(err).message}` });
  }
  if (req.headers['aeg-event-type'] === 'SubscriptionValidation') {
    return send(res, 200, { validationResponse: batch[0]!.data.validationCode ?? '' });
  }
  const container = def.path.split('/')[0]!;
  for (const ev of batch) {
    const where = parseBlobSubject(ev.subject);
    if (ev.eventType !== 'Microsoft.Storage.BlobCreated' || !where || where.container !== container) continue;
    if (ev.data.api && !(completedWriteApis as readonly string[]).includes(ev.data.api)) continue;
    const blob = o.storage.blobs.getContainerClient(where.container).getBlobClient(where.name);
    let content: Buffer;
    let props;
    try {
      // One GET: the content and the properties of the same version (two calls could straddle an overwrite).
      props = await blob.download();
      content = await readStream(props.readableStreamBody);
    } catch (err) {
      if (restStatus(err) === 404) continue; // deleted since: nothing to process
      throw err;
    }
    const outcome = await o.invoker.invoke(
      def.name,
      {
        blobTrigger: `${where.container}/${where.name}`,
        name: where.name,
        uri: blob.url,
        properties: {
          eTag: props.etag,
          length: props.contentLength,
          contentType: props.contentType,
          lastModified: props.lastModified?.toISOString(),
        },
        metadata: props.metadata ?? {},
        ...(ev.data.traceparent ? { traceparent: ev.data.traceparent } : {}),
      },
      (ctx) => def.handler(content, ctx),
    );
    // A failed invocation fails the delivery, so the sender (Event Grid, or the local watcher) retries it.
    if (!outcome.ok) return send(res, 500, { error: outcome.error?.message ?? 'failed' });
  }
  res.writeHead(202).end();
}
