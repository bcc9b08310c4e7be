import { makeLandedBlob } from '../../../functions/landedBlob';
import { runRequestV1, type RunRequest } from '../../../shared/messages/runRequest';
import { invocation } from '../../support/invocation';

const NOW = new Date('2026-11-24T10:00:00Z');
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function landed() {
  const sent: { messageId: string; request: RunRequest }[] = [];
  const handler = makeLandedBlob({
    sendRunRequest: (messageId, request) => (sent.push({ messageId, request }), Promise.resolve()),
    now: () => NOW,
  });
  return { handler, sent };
}

describe('landedBlob', () => {
  it('turns a landed raw blob into one valid run request, keeping its ETag, landing time and trace', async () => {
    const { handler, sent } = landed();
    const ctx = invocation('landedBlob', {
      blobTrigger: 'raw/neows/feed/2024/05/25/neows-feed-2024-05-25.json',
      properties: { eTag: '"0x8DC1"', lastModified: 'Sun, 24 Nov 2026 09:59:58 GMT' },
      traceparent: TRACEPARENT,
    });
    await handler(Buffer.from('{"near_earth_objects":{}}'), ctx);
    expect(sent).toHaveLength(1);
    const request = runRequestV1.parse(sent[0]!.request);
    expect(sent[0]!.messageId).toMatch(/^blob-[0-9a-f]{64}$/);
    expect(request).toMatchObject({
      dataset: 'neows',
      origin: 'blob-landed',
      inputs: [{ container: 'raw', path: 'neows/feed/2024/05/25/neows-feed-2024-05-25.json', etag: '"0x8DC1"' }],
      traceparent: TRACEPARENT,
      requestedAt: NOW.toISOString(),
      landedAt: '2026-11-24T09:59:58.000Z',
    });
  });

  it('the same bytes landing twice give the same MessageId (the broker drops the duplicate)', async () => {
    const { handler, sent } = landed();
    const meta = { blobTrigger: 'raw/apod/2024/05/25/apod.json', properties: { eTag: '"0x1"' } };
    await handler(Buffer.from('{"a":1}'), invocation('landedBlob', meta));
    await handler(Buffer.from('{"a":1}'), invocation('landedBlob', { ...meta, properties: { eTag: '"0x2"' } }));
    expect(sent).toHaveLength(2);
    expect(sent[0]!.messageId).toBe(sent[1]!.messageId);
  });

  it('sends nothing for an empty blob or one outside every dataset, and says why', async () => {
    const { handler, sent } = landed();
    await expect(handler(Buffer.alloc(0), invocation('landedBlob', { blobTrigger: 'raw/neows/x.json' }))).resolves.toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('is empty') as string,
    });
    await expect(handler(Buffer.from('{}'), invocation('landedBlob', { blobTrigger: 'raw/nope/x.json' }))).resolves.toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('"nope" is not a known dataset') as string,
    });
    expect(sent).toEqual([]);
  });
});
