import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { InputManifestSchema, type CatalogDataset, type InputManifest } from '../catalog';
import { OrbiterError } from '../errors';

/**
 * Manifests by reference (docs/contracts.md, "Notebooks"): a run's input list too large for a job parameter is stored
 * as a blob `events/manifests/<dataset>/<runId>.json` holding `{"files":[...]}`, and `input_manifest` names it:
 * `{"ref":{"container":"events","path":"manifests/<dataset>/<runId>.json"}}`.
 */
export const ManifestsPrefix = 'manifests';

export type ManifestFile = InputManifest['files'][number];

export const ManifestRefSchema = z.strictObject({ container: z.string().min(1), path: z.string().min(1) });
export type ManifestRef = z.infer<typeof ManifestRefSchema>;

/** The input_manifest parameter in its reference form. */
export const ManifestRefParameterSchema = z.strictObject({ ref: ManifestRefSchema });

/** Where a run's manifest lives in the events container: one name per run, so a rewrite replaces it in place. */
export function manifestBlobName(dataset: string, runId: string): string {
  for (const part of [dataset, runId]) {
    if (!part || part.includes('/') || part === '.' || part === '..')
      throw new OrbiterError('InvalidArgument', `not usable in a manifest blob name: ${JSON.stringify(part)}`);
  }
  return `${ManifestsPrefix}/${dataset}/${runId}.json`;
}

export interface ManifestStore {
  /**
   * Stores `{"files": files}` for the run and returns where. Idempotent: the same run always writes the same blob, and
   * the blob appears whole or not at all (one upload call), so a notebook never reads a partial manifest.
   */
  put(runId: string, dataset: string, files: ManifestFile[]): Promise<ManifestRef>;
}

/** Manifests as blobs in the lake's `events` container (the client given). */
export class BlobManifestStore implements ManifestStore {
  constructor(private readonly events: ContainerClient) {}

  async put(runId: string, dataset: string, files: ManifestFile[]): Promise<ManifestRef> {
    const path = manifestBlobName(dataset, runId);
    const container = this.events.containerName;
    const body = Buffer.from(JSON.stringify(InputManifestSchema.parse({ files })));
    try {
      // Unconditional: a replayed dispatch rewrites identical content (the run's inputs never change), and a single
      // Put Blob replaces the blob atomically.
      await this.events.getBlockBlobClient(path).upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/json' } });
    } catch (err) {
      throw new OrbiterError('LakeWriteFailed', `could not write input manifest ${container}/${path}: ${(err as Error).message}`, {
        cause: err,
        retryable: true,
        details: { runId, dataset },
      });
    }
    return { container, path };
  }
}

/**
 * The job parameters with every parameter the catalog maps from the input manifest set to the reference form
 * (buildJobParameters only knows the inline form).
 */
export function withManifestRef(
  params: Record<string, string>,
  entry: Pick<CatalogDataset, 'jobParameters'>,
  ref: ManifestRef,
): Record<string, string> {
  const value = JSON.stringify(ManifestRefParameterSchema.parse({ ref }));
  const out = { ...params };
  for (const [name, mapping] of Object.entries(entry.jobParameters)) {
    if ('from' in mapping && mapping.from === 'inputManifest') out[name] = value;
  }
  return out;
}
