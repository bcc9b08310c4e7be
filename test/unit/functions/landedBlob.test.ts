import { makeLandedBlob } from '../../../functions/landedBlob';
import type { BlobVersion } from '../../../shared/lake/blobVersion';
import { runRequestV1, type RunRequest } from '../../../shared/messages/runRequest';
import { invocation } from '../../support/invocation';

const NOW = new Date('2026-11-24T10:00:00Z');
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const SHA = 'c'.repeat(64);

function event(name: string, data: Record<string, unknown> = {}, container = 'raw') {
  return {
    id: `${container}/${name}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    subject: `/blobServices/default/containers/${container}/blobs/${name}`,
    eventTime: NOW.toISOString(),
    data: { api: 'PutBlob', eTag: '"0x8DC1"', contentLength: 25, url: `https://lake/${container}/${name}`, ...data },
  };
}

function landed(blobs: Record<string, BlobVersion>) {
  const sent: { messageId: string; request: RunRequest }[] = [];
  const heads: string[] = [];
  const handler = makeLandedBlob({
    sendRunRequest: (messageId, request) => (sent.push({ messageId, request }), Promise.resolve()),
    rawBlobVersion: (name) => (heads.push(name), Promise.resolve(blobs[name])),
    now: () => NOW,
  });
  return { handler, sent, heads };
}

describe('landedBlob', () => {
  const name = 'neows/feed/2024/05/25/neows-feed-2024-05-25.json';

  it('turns a BlobCreated event into one valid run request from the blob properties (ETag, length, metadata sha256 and cycle start, landing time, trace)', async () => {
    const { handler, sent, heads } = landed({
      [name]: { etag: '"0x8DC1"', size: 25, sha256: SHA, lastModified: '2026-11-24T09:59:58.000Z', cycleStartedAt: '2026-11-24T09:59:55.123Z' },
    });
    await handler(event(name, { traceparent: TRACEPARENT }), invocation('landedBlob'));
    expect(heads).toEqual([name]);
    expect(sent).toHaveLength(1);
    const request = runRequestV1.parse(sent[0]!.request);
    expect(sent[0]!.messageId).toMatch(/^blob-[0-9a-f]{64}$/);
    expect(request).toMatchObject({
      dataset: 'neows',
      origin: 'blob-landed',
      inputs: [{ container: 'raw', path: name, etag: '"0x8DC1"', sha256: SHA, size: 25 }],
      traceparent: TRACEPARENT,
      requestedAt: NOW.toISOString(),
      landedAt: '2026-11-24T09:59:58.000Z',
      cycleStartedAt: '2026-11-24T09:59:55.123Z',
    });
  });

  it('the same bytes landing twice (same sha256 metadata, new ETag) give the same MessageId', async () => {
    const first = landed({ [name]: { etag: '"0x1"', size: 7, sha256: SHA } });
    const second = landed({ [name]: { etag: '"0x2"', size: 7, sha256: SHA } });
    await first.handler(event(name), invocation('landedBlob'));
    await second.handler(event(name), invocation('landedBlob'));
    expect(first.sent[0]!.messageId).toBe(second.sent[0]!.messageId);
  });

  it('ignores, with the reason and without reading the blob, events that are not a finished raw-zone blob', async () => {
    const { handler, sent, heads } = landed({});
    const cases: [unknown, RegExp][] = [
      [{ not: 'an event' }, /not an Event Grid event/],
      [{ ...event(name), eventType: 'Microsoft.Storage.BlobDeleted' }, /is not Microsoft.Storage.BlobCreated/],
      [event(name, {}, 'quarantine'), /not in container raw/],
      [event(name, { api: 'CreateFile' }), /CreateFile does not complete a blob/],
      [{ ...event(name), subject: '/somewhere/else' }, /is not a blob/],
    ];
    for (const [ev, reason] of cases)
      await expect(handler(ev, invocation('landedBlob'))).resolves.toMatchObject({
        kind: 'ignored',
        reason: expect.stringMatching(reason) as string,
      });
    expect(heads).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('sends nothing for a deleted, empty or unknown-dataset blob, and says why', async () => {
    const { handler, sent } = landed({ 'neows/empty.json': { etag: '"0x1"', size: 0 }, 'nope/x.json': { etag: '"0x1"', size: 3 } });
    await expect(handler(event('neows/gone.json'), invocation('landedBlob'))).resolves.toMatchObject({
      reason: expect.stringContaining('no longer exists') as string,
    });
    await expect(handler(event('neows/empty.json'), invocation('landedBlob'))).resolves.toMatchObject({
      reason: expect.stringContaining('is empty') as string,
    });
    await expect(handler(event('nope/x.json'), invocation('landedBlob'))).resolves.toMatchObject({
      reason: expect.stringContaining('"nope" is not a known dataset') as string,
    });
    expect(sent).toEqual([]);
  });
});
