import type { IncomingMessage } from 'node:http';
import { bodyTooLarge } from 'orbiter/shared/http/limitedBody';

/** What became of a request body handed to a function as a stream. */
export interface StreamedBody {
  /** The body as the function reads it (undefined for GET/HEAD, as the Functions library does). */
  readonly stream: ReadableStream<Uint8Array> | undefined;
  /** The body grew past the host's limit (the stream failed with BodyTooLarge). */
  readonly overLimit: boolean;
  /** The whole body arrived; when not, the connection cannot be reused for another request. */
  readonly complete: boolean;
}

/**
 * A request body as a web stream pulled at the function's pace (as Azure streams it with `enableHttpStream`): the
 * host holds at most one chunk, so a 95 MB upload to a handler that stops at 64 KiB costs 64 KiB. Past `maxBytes`
 * (the host's own limit, 100 MB in Azure) the stream fails with BodyTooLarge. Cancelling stops reading without
 * destroying the socket, so the host can still answer.
 */
export function streamBody(req: IncomingMessage, maxBytes: number): StreamedBody {
  let size = 0;
  let overLimit = false;
  let complete = false;
  let done = false;
  const method = (req.method ?? 'GET').toUpperCase();
  if (method === 'GET' || method === 'HEAD') {
    return { stream: undefined, overLimit: false, complete: true };
  }
  const stop = (): void => {
    done = true;
    req.removeListener('data', onData);
    req.pause();
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onData = (chunk: Buffer): void => {
    if (done) return;
    size += chunk.length;
    if (size > maxBytes) {
      overLimit = true;
      stop();
      controller.error(bodyTooLarge(maxBytes));
      return;
    }
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller.desiredSize ?? 0) <= 0) req.pause();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        req.pause();
        req.on('data', onData);
        req.once('end', () => {
          complete = true;
          if (!done) {
            done = true;
            controller.close();
          }
        });
        req.once('error', (err) => {
          if (!done) {
            done = true;
            controller.error(err);
          }
        });
      },
      pull() {
        if (!done) req.resume();
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
  return {
    stream,
    get overLimit() {
      return overLimit;
    },
    get complete() {
      return complete;
    },
  };
}

/** A declared Content-Length over the limit: refused before anything is read. */
export function declaredTooLarge(req: IncomingMessage, maxBytes: number): boolean {
  const declared = Number(req.headers['content-length'] ?? '');
  return Number.isFinite(declared) && declared > maxBytes;
}
