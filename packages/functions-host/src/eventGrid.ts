import { z } from 'zod';

/** Event Grid schema events as delivered to the blobs extension webhook. */
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
    url: z.string(),
    blobType: z.string().optional(),
    validationCode: z.string().optional(),
    traceparent: z.string().optional(),
  }),
});
export const eventGridBatch = z.array(eventGridEvent).min(1);
export type EventGridEvent = z.infer<typeof eventGridEvent>;

/** Writes that complete a blob; ADLS Gen2 also raises BlobCreated for CreateFile (an empty file being started). */
export const completedWriteApis = ['PutBlob', 'PutBlockList', 'FlushWithClose', 'CopyBlob'] as const;

/** "/blobServices/default/containers/<c>/blobs/<name>" → container and name. */
export function parseBlobSubject(subject: string): { container: string; name: string } | undefined {
  const m = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(subject);
  return m ? { container: m[1]!, name: m[2]! } : undefined;
}

export function blobCreatedEvent(args: {
  accountUrl: string;
  container: string;
  name: string;
  etag: string;
  contentLength: number;
  api?: string;
  traceparent?: string;
}): EventGridEvent {
  return {
    id: `${args.container}/${args.name}@${args.etag}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    subject: `/blobServices/default/containers/${args.container}/blobs/${args.name}`,
    eventTime: new Date().toISOString(),
    topic: '/subscriptions/local/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/devstoreaccount1',
    dataVersion: '',
    data: {
      api: args.api ?? 'PutBlob',
      eTag: args.etag,
      contentLength: args.contentLength,
      url: `${args.accountUrl.replace(/\/$/, '')}/${args.container}/${args.name}`,
      blobType: 'BlockBlob',
      ...(args.traceparent ? { traceparent: args.traceparent } : {}),
    },
  };
}
