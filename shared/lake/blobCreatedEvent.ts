import { z } from 'zod';

/**
 * An Event Grid schema event as Event Grid delivers it to the app's Event Grid trigger (and locally the blob watcher
 * to the host). Only what landing needs: where the blob is and which version; the content never travels.
 */
export const eventGridEvent = z.looseObject({
  id: z.string(),
  eventType: z.string(),
  subject: z.string(),
  eventTime: z.string(),
  topic: z.string().optional(),
  dataVersion: z.string().optional(),
  data: z.looseObject({
    api: z.string().optional(),
    eTag: z.string().optional(),
    contentLength: z.number().optional(),
    url: z.string().optional(),
    blobType: z.string().optional(),
    validationCode: z.string().optional(),
    traceparent: z.string().optional(),
  }),
});
export const eventGridBatch = z.array(eventGridEvent).min(1);
export type EventGridEvent = z.infer<typeof eventGridEvent>;

export const BlobCreated = 'Microsoft.Storage.BlobCreated';

/** Writes that complete a blob; ADLS Gen2 also raises BlobCreated for CreateFile (an empty file being started). */
export const completedWriteApis = ['PutBlob', 'PutBlockList', 'FlushWithClose', 'CopyBlob'] as const;

/** "/blobServices/default/containers/<c>/blobs/<name>" → container and name. */
export function parseBlobSubject(subject: string): { container: string; name: string } | undefined {
  const m = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(subject);
  return m ? { container: m[1]!, name: m[2]! } : undefined;
}

/** Why this event does not announce a finished blob in `container`, or undefined when it does. */
export function notALanding(ev: EventGridEvent, container: string): string | undefined {
  if (ev.eventType !== BlobCreated) return `event type ${ev.eventType} is not ${BlobCreated}`;
  const where = parseBlobSubject(ev.subject);
  if (!where) return `subject ${JSON.stringify(ev.subject)} is not a blob`;
  if (where.container !== container) return `${where.container}/${where.name} is not in container ${container}`;
  if (ev.data.api && !(completedWriteApis as readonly string[]).includes(ev.data.api)) return `api ${ev.data.api} does not complete a blob`;
  return undefined;
}
