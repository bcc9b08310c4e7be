import type { EventGridEvent } from 'orbiter/shared/lake/blobCreatedEvent';

/** A BlobCreated event as Event Grid sends it for a finished write. */
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
