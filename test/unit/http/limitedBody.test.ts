import { HttpRequest, InvocationContext, type HttpRequestInit } from '@azure/functions';
import { apiCall } from '../../../shared/api/http';
import { readJsonBody } from '../../../shared/api/request';
import { isOrbiterError } from '../../../shared/errors';
import { readLimited } from '../../../shared/http/limitedBody';

/** A body that never ends (an attacker's upload), counting what the reader pulled and whether it was cancelled. */
function endless(chunkBytes = 16 * 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number; cancelled: () => boolean } {
  let pulled = 0;
  let cancelled = false;
  const chunk = new Uint8Array(chunkBytes).fill(0x61);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk.slice());
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled, cancelled: () => cancelled };
}

const fromText = (text: string): ReadableStream<Uint8Array> =>
  new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(text));
      c.close();
    },
  });

describe('readLimited: the body limit is counted while reading', () => {
  it('reads a body of exactly the limit', async () => {
    expect((await readLimited(fromText('a'.repeat(100)), 100)).toString()).toBe('a'.repeat(100));
    expect((await readLimited(null, 100)).length).toBe(0);
  });

  it('cuts off an endless upload one chunk past the limit, cancelling the stream', async () => {
    const body = endless();
    const err = await readLimited(body.stream, 64 * 1024).catch((e: unknown) => e);
    expect(isOrbiterError(err, 'BodyTooLarge')).toBe(true);
    expect(body.pulled()).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
    expect(body.cancelled()).toBe(true);
  });

  it('refuses a declared Content-Length over the limit before reading anything', async () => {
    const body = endless();
    const err = await readLimited(body.stream, 1024, String(95 * 1024 * 1024)).catch((e: unknown) => e);
    expect(isOrbiterError(err, 'BodyTooLarge')).toBe(true);
    expect(body.pulled()).toBe(0);
    expect(body.cancelled()).toBe(true);
  });

  it('passes a broken stream on as its own error, not as too large', async () => {
    const broken = new ReadableStream<Uint8Array>({
      pull(c) {
        c.error(new Error('connection reset'));
      },
    });
    await expect(readLimited(broken, 1024)).rejects.toThrow('connection reset');
  });
});

describe('readJsonBody on a streamed request (Azure with enableHttpStream)', () => {
  it('answers an endless chunked upload with 413 problem+json after reading at most the limit and a chunk', async () => {
    const body = endless();
    // The shape the Functions library builds for a streamed request (createStreamRequest): a native Request.
    const request = new HttpRequest({
      nativeRequest: new Request('http://127.0.0.1:7071/api/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body.stream,
        duplex: 'half',
      }),
    } as unknown as HttpRequestInit);
    const ctx = new InvocationContext({ invocationId: 'inv-1', functionName: 'runsCreate', logHandler: () => undefined });
    const res = await apiCall(request, ctx, async () => {
      await readJsonBody(request);
      return { status: 204 };
    });
    expect(res.status).toBe(413);
    expect(new Headers(res.headers).get('content-type')).toBe('application/problem+json');
    expect(body.pulled()).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
    expect(body.cancelled()).toBe(true);
  });
});
