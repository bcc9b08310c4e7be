import type { ReadableStream } from 'node:stream/web';
import { OrbiterError } from '../errors';

/** The body is over the limit: thrown before reading (declared length) or as soon as the count passes it. */
export const bodyTooLarge = (maxBytes: number): OrbiterError =>
  new OrbiterError('BodyTooLarge', `request body exceeds ${maxBytes} bytes`, { details: { maxBytes } });

/**
 * Reads a request body of at most `maxBytes`, counting while it reads: a declared Content-Length over the limit
 * fails before anything is read, and a body that grows past it (chunked, or lying about its length) is cancelled at
 * the first chunk over, so at most `maxBytes` plus one chunk is ever held — never the whole upload.
 */
export async function readLimited(
  body: ReadableStream<Uint8Array> | globalThis.ReadableStream<Uint8Array> | null,
  maxBytes: number,
  declaredLength?: string | null,
): Promise<Buffer> {
  const declared = declaredLength ? Number(declaredLength) : NaN;
  if (Number.isFinite(declared) && declared > maxBytes) {
    await body?.cancel().catch(() => undefined);
    throw bodyTooLarge(maxBytes);
  }
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Stop the transfer here: the rest of the upload is never read.
        await reader.cancel('body too large').catch(() => undefined);
        throw bodyTooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, size);
}
