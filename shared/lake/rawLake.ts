import { createHash } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { OrbiterError } from '../errors';
import type { Window } from '../nasa/source';
import { rawBlobName } from './rawBlobName';
import { restStatus } from '../storage/restStatus';

export interface LandRequest {
  source: string;
  stream: string;
  window: Window;
  page?: number;
  body: Buffer;
  recordCount: number;
  /** Extra metadata (ASCII, short). */
  extra?: Record<string, string>;
}

export interface LandResult {
  blobName: string;
  written: boolean;
  bytes: number;
  sha256: string;
  etag?: string;
}

/** Writes raw NASA payloads into the raw container, exactly once per distinct content. */
export class RawLake {
  constructor(
    private readonly raw: ContainerClient,
    private readonly orbiterVersion: string,
    private readonly now: () => Date = () => new Date(),
    /** The ingestion cycle's start, stored on every blob it writes: its blobs coalesce into one run. */
    private readonly cycleStartedAt?: string,
  ) {}

  async land(req: LandRequest): Promise<LandResult> {
    const sha256 = createHash('sha256').update(req.body).digest('hex');
    const blobName = rawBlobName(req.source, req.stream, req.window, sha256, req.page);
    const blob = this.raw.getBlockBlobClient(blobName);
    try {
      // If-None-Match: * makes the write conditional in one round trip: an existing blob (same content) is left alone.
      const res = await blob.upload(req.body, req.body.length, {
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
        metadata: {
          source: req.source,
          stream: req.stream,
          windowstart: req.window.start,
          windowend: req.window.end,
          ...(req.page === undefined ? {} : { page: String(req.page) }),
          recordcount: String(req.recordCount),
          sha256,
          ingestedat: this.now().toISOString(),
          ...(this.cycleStartedAt ? { cyclestartedat: this.cycleStartedAt } : {}),
          orbiterversion: this.orbiterVersion,
          ...req.extra,
        },
      });
      return { blobName, written: true, bytes: req.body.length, sha256, ...(res.etag ? { etag: res.etag } : {}) };
    } catch (err) {
      const status = restStatus(err);
      if (status === 409 || status === 412) return { blobName, written: false, bytes: req.body.length, sha256 };
      throw new OrbiterError('LakeWriteFailed', `could not write raw/${blobName}`, { cause: err, retryable: true });
    }
  }
}

/**
 * Creates missing containers (locally). In Azure the Bicep creates them and the app's roles are scoped to single
 * containers, which do not allow creating one: a 403 there means "not mine to create", and the writes that follow
 * say whether the container is usable.
 */
export async function ensureContainers(containers: ContainerClient[]): Promise<void> {
  for (const c of containers) {
    try {
      await c.createIfNotExists();
    } catch (err) {
      if (restStatus(err) !== 403) throw err;
    }
  }
}
