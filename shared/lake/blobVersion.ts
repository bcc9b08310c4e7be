import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { restStatus } from '../storage/restStatus';

/** What landing needs to know about one blob version: its properties, never its content. */
export interface BlobVersion {
  etag: string;
  size: number;
  lastModified?: string;
  /** Content hash that Orbiter's ingesters store in the blob's metadata (absent on blobs written by others). */
  sha256?: string;
  /** When the ingestion cycle that wrote it started (metadata of Orbiter's ingesters). */
  cycleStartedAt?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const ISO_TIME = z.iso.datetime();

/** One HEAD request (Get Blob Properties), whatever the blob's size; undefined when the blob is gone. */
export async function readBlobVersion(container: ContainerClient, name: string): Promise<BlobVersion | undefined> {
  try {
    const p = await container.getBlobClient(name).getProperties();
    const sha256 = p.metadata?.['sha256'];
    const cycle = p.metadata?.['cyclestartedat'];
    return {
      etag: p.etag ?? '',
      size: p.contentLength ?? 0,
      ...(p.lastModified ? { lastModified: p.lastModified.toISOString() } : {}),
      ...(sha256 && SHA256.test(sha256) ? { sha256 } : {}),
      ...(cycle && ISO_TIME.safeParse(cycle).success ? { cycleStartedAt: cycle } : {}),
    };
  } catch (err) {
    if (restStatus(err) === 404) return undefined;
    throw err;
  }
}
