import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobSASPermissions, type BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { OrbiterError } from '../errors';
import type { Window } from '../nasa/source';
import type { LandResult } from './rawLake';
import { rawBlobName } from './rawBlobName';
import { restStatus } from '../storage/restStatus';

export interface LandStreamRequest {
  source: string;
  stream: string;
  window: Window;
  page?: number;
  /** The upstream body; read once, never held whole in memory. */
  body: Readable;
  /** Unknown while streaming unless the caller counted (metadata recordcount is then omitted). */
  recordCount?: number;
  extra?: Record<string, string>;
}

export interface RawLakeStreamOptions {
  /**
   * How the body waits for its hash: 'spool' (default) hashes while writing a local temp file, then uploads the file
   * under its final name; 'copy' hashes while uploading to a staging blob, then copies it server-side to the final name.
   */
  strategy?: 'spool' | 'copy';
  /** Folder for spooled bodies (default os.tmpdir()). */
  spoolDir?: string;
  /** Where bodies are staged while their hash is unknown (default: the raw container itself). */
  staging?: ContainerClient;
  /** Name prefix of staged bodies; its first segment is not a dataset, so landedBlob ignores a staged blob. */
  stagingPrefix?: string;
  /** Block size and blocks in flight: memory is about bufferSize × (maxConcurrency + 1). */
  bufferSize?: number;
  maxConcurrency?: number;
  now?: () => Date;
}

/**
 * Streaming landing for payloads too large to buffer. A content-addressed name needs the hash before the name is
 * known, and blocks can only be committed to the blob they were staged on, so the bytes must wait somewhere:
 * - 'spool' (default): hashed while written to a local temp file (page cache, not heap), then uploaded in parallel
 *   blocks straight to the final name; one upload, no server-side copy.
 * - 'copy': hashed while uploaded to a staging blob, then copied server-side to the final name (nothing local, and
 *   reading overlaps uploading; Azurite copies by reference, Azure inside the service, asynchronously). Not for the
 *   raw zone as deployed: its Event Grid subscription passes PutBlob/PutBlockList/FlushWithClose, not CopyBlob, and on
 *   a hierarchical-namespace account a copy that does not finish at once raises BlobCreated when it starts.
 * Spool cannot start uploading before the last byte is read (the price of the name: read time + upload time, against
 * the plain upload's max of the two); copy can, at the price of a staging blob and the caveats above.
 * Either way the final write is conditional (If-None-Match: *), so it has RawLake.land's idempotency: the same bytes
 * never land twice, changed bytes land beside the old version; temp files and staging blobs are always removed.
 */
export class RawLakeStream {
  private readonly staging: ContainerClient;
  private readonly prefix: string;

  constructor(
    private readonly raw: ContainerClient,
    private readonly orbiterVersion: string,
    private readonly options: RawLakeStreamOptions = {},
  ) {
    this.staging = options.staging ?? raw;
    this.prefix = options.stagingPrefix ?? '_staging/';
  }

  landStream(req: LandStreamRequest): Promise<LandResult> {
    return (this.options.strategy ?? 'spool') === 'spool' ? this.landBySpool(req) : this.landByCopy(req);
  }

  private metadata(req: LandStreamRequest, sha256: string): Record<string, string> {
    return {
      source: req.source,
      stream: req.stream,
      windowstart: req.window.start,
      windowend: req.window.end,
      ...(req.page === undefined ? {} : { page: String(req.page) }),
      ...(req.recordCount === undefined ? {} : { recordcount: String(req.recordCount) }),
      sha256,
      ingestedat: (this.options.now ?? (() => new Date()))().toISOString(),
      orbiterversion: this.orbiterVersion,
      ...req.extra,
    };
  }

  private async landBySpool(req: LandStreamRequest): Promise<LandResult> {
    const file = join(this.options.spoolDir ?? tmpdir(), `orbiter-spool-${randomUUID()}.json`);
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          bytes += chunk.length;
          cb(null, chunk);
        },
      });
      try {
        // A block-sized write buffer: chunks queue while one write is in flight and go out together (writev), instead
        // of one thread-pool write per 16–64 KiB chunk, which made writing the spool cost ~60 % more than reading the body.
        await pipeline(req.body, tap, createWriteStream(file, { highWaterMark: this.options.bufferSize ?? 8 * 1024 * 1024 }));
      } catch (err) {
        throw new OrbiterError('LakeWriteFailed', `could not read ${req.source}/${req.stream} ${req.window.start}_${req.window.end}`, {
          cause: err,
          retryable: true,
        });
      }
      const sha256 = hash.digest('hex');
      const blobName = rawBlobName(req.source, req.stream, req.window, sha256, req.page);
      const target = this.raw.getBlockBlobClient(blobName);
      try {
        // Cheap fast path for an unchanged payload; the conditional commit below still decides races.
        if (await target.exists()) return { blobName, written: false, bytes, sha256 };
        const blockSize = this.options.bufferSize ?? 8 * 1024 * 1024;
        const res = await target.uploadFile(file, {
          blockSize,
          // The SDK would send anything up to 256 MiB as one sequential Put Blob; past one block, parallel blocks (one
          // retried alone if it fails) are faster. The commit (Put Block List) is still the one conditional, atomic write.
          maxSingleShotSize: blockSize,
          concurrency: this.options.maxConcurrency ?? 4,
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
          metadata: this.metadata(req, sha256),
        });
        return { blobName, written: true, bytes, sha256, ...(res.etag ? { etag: res.etag } : {}) };
      } catch (err) {
        const status = restStatus(err);
        if (status === 409 || status === 412) return { blobName, written: false, bytes, sha256 };
        throw new OrbiterError('LakeWriteFailed', `could not write raw/${blobName}`, { cause: err, retryable: true });
      }
    } finally {
      await rm(file, { force: true });
    }
  }

  private async landByCopy(req: LandStreamRequest): Promise<LandResult> {
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    // pipe() does not forward errors: an upstream failure must fail the upload, not truncate it silently.
    req.body.once('error', (err) => tap.destroy(err));
    req.body.pipe(tap);

    const staged = this.staging.getBlockBlobClient(`${this.prefix}${randomUUID()}.json`);
    try {
      try {
        await staged.uploadStream(tap, this.options.bufferSize ?? 8 * 1024 * 1024, this.options.maxConcurrency ?? 4, {
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
      } catch (err) {
        throw new OrbiterError('LakeWriteFailed', `could not stage ${req.source}/${req.stream} ${req.window.start}_${req.window.end}`, {
          cause: err,
          retryable: true,
        });
      }
      const sha256 = hash.digest('hex');
      const blobName = rawBlobName(req.source, req.stream, req.window, sha256, req.page);
      const target = this.raw.getBlockBlobClient(blobName);
      try {
        const etag = await copyOnce(staged, target, this.metadata(req, sha256));
        return { blobName, written: true, bytes, sha256, ...(etag ? { etag } : {}) };
      } catch (err) {
        const status = restStatus(err);
        if (status === 409 || status === 412) return { blobName, written: false, bytes, sha256 };
        throw new OrbiterError('LakeWriteFailed', `could not write raw/${blobName}`, { cause: err, retryable: true });
      }
    } finally {
      await staged.deleteIfExists().catch(() => undefined);
    }
  }
}

/** Server-side copy staging → final name, only if the final name is free; returns the new blob's ETag. */
async function copyOnce(from: BlockBlobClient, to: BlockBlobClient, metadata: Record<string, string>): Promise<string | undefined> {
  const poller = await to.beginCopyFromURL(await sourceUrl(from, to), { conditions: { ifNoneMatch: '*' }, metadata, intervalInMs: 200 });
  const res = await poller.pollUntilDone();
  if (res.copyStatus && res.copyStatus !== 'success') {
    throw new OrbiterError('LakeWriteFailed', `copy to ${to.name} ended ${res.copyStatus}`, { retryable: true });
  }
  return (await to.getProperties()).etag;
}

/**
 * A source in the destination's account is authorised by the destination's credential (Azure and Azurite alike), so
 * its plain URL is used: with a SAS, Azurite validates the source by reading the whole blob into memory first (a
 * second pass over every byte, and a 500 for a 1 GiB body). Another account needs a SAS.
 */
async function sourceUrl(from: BlockBlobClient, to: BlockBlobClient): Promise<string> {
  if (from.accountName === to.accountName && new URL(from.url).origin === new URL(to.url).origin) return from.url;
  try {
    return await from.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) });
  } catch {
    return from.url; // identity credential: no SAS without a user delegation key, and none is needed in the same account
  }
}
