import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobEventFunction } from 'orbiter/functions/definition';
import { ensureError } from 'orbiter/shared/errors';
import { eventGridBatch } from 'orbiter/shared/lake/blobCreatedEvent';
import { readBody, send } from './httpIo';
import type { Invoker } from './invoker';

export interface EventGridWebhookOptions {
  definitions: readonly BlobEventFunction[];
  invoker: Invoker;
  authorized(req: IncomingMessage, url: URL): boolean;
}

/**
 * The Event Grid extension's webhook, as Event Grid calls it (subscription validation, then notifications): each
 * event is handed to the function as it arrived. Nothing is downloaded: the function reads what it needs itself.
 */
export async function handleEventGridWebhook(req: IncomingMessage, res: ServerResponse, url: URL, o: EventGridWebhookOptions): Promise<void> {
  if (!o.authorized(req, url)) {
    res.writeHead(401).end();
    return;
  }
  const fn = (url.searchParams.get('functionName') ?? '').replace(/^Host\.Functions\./, '');
  const def = o.definitions.find((d) => d.name === fn);
  if (!def) return send(res, 404, { error: `no Event Grid function named ${fn}` });
  const raw = await readBody(req, 1024 * 1024);
  if (raw === 'too-large') return send(res, 413, { error: 'event batch too large' }, { connection: 'close' });
  let batch;
  try {
    batch = eventGridBatch.parse(JSON.parse(raw.toString('utf8')));
  } catch (err) {
    return send(res, 400, { error: `invalid Event Grid batch: ${ensureError(err).message}` });
  }
  if (req.headers['aeg-event-type'] === 'SubscriptionValidation') {
    return send(res, 200, { validationResponse: batch[0]!.data.validationCode ?? '' });
  }
  for (const ev of batch) {
    const outcome = await o.invoker.invoke(def.name, { ...(ev.data.traceparent ? { traceparent: ev.data.traceparent } : {}) }, (ctx) =>
      def.handler(ev, ctx),
    );
    // A failed invocation fails the delivery, so the sender (Event Grid, or the local watcher) retries it.
    if (!outcome.ok) return send(res, 500, { error: outcome.error?.message ?? 'failed' });
  }
  res.writeHead(202).end();
}
