import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BlobServiceClient, RestError } from '@azure/storage-blob';
import { OrbiterError } from 'orbiter/shared/errors';

export interface BlobRef {
  container: string;
  path: string;
  etag?: string;
}

/**
 * Where the emulator fetches a run's input blobs from before the notebooks start (Azurite locally).
 * `download` throws OrbiterError NotFound (missing), ManifestInvalid (ETag changed) or a retryable one.
 */
export interface BlobSource {
  download(ref: BlobRef, destination: string, signal?: AbortSignal): Promise<void>;
  list(container: string, prefix: string, signal?: AbortSignal): Promise<BlobRef[]>;
}

export class AzureBlobSource implements BlobSource {
  private readonly service: BlobServiceClient;

  constructor(connectionStringOrClient: string | BlobServiceClient) {
    this.service =
      typeof connectionStringOrClient === 'string' ? BlobServiceClient.fromConnectionString(connectionStringOrClient) : connectionStringOrClient;
  }

  async download(ref: BlobRef, destination: string, signal?: AbortSignal): Promise<void> {
    const blob = this.service.getContainerClient(ref.container).getBlobClient(ref.path);
    await mkdir(dirname(destination), { recursive: true });
    const tmp = `${destination}.${process.pid}.partial`;
    try {
      await blob.downloadToFile(tmp, 0, undefined, {
        ...(ref.etag ? { conditions: { ifMatch: ref.etag } } : {}),
        ...(signal ? { abortSignal: signal } : {}),
      });
      await rename(tmp, destination);
    } catch (err) {
      const status = err instanceof RestError ? err.statusCode : undefined;
      const where = `${ref.container}/${ref.path}`;
      if (status === 404) throw new OrbiterError('NotFound', `Input blob ${where} does not exist`, { cause: err });
      if (status === 412)
        throw new OrbiterError('ManifestInvalid', `Input blob ${where} changed since it was listed (ETag ${ref.etag})`, { cause: err });
      throw new OrbiterError('LakeWriteFailed', `Could not fetch input blob ${where}: ${(err as Error).message}`, { retryable: true, cause: err });
    }
  }

  async list(container: string, prefix: string, signal?: AbortSignal): Promise<BlobRef[]> {
    const out: BlobRef[] = [];
    try {
      for await (const item of this.service.getContainerClient(container).listBlobsFlat({ prefix, ...(signal ? { abortSignal: signal } : {}) })) {
        out.push({ container, path: item.name, ...(item.properties.etag ? { etag: item.properties.etag } : {}) });
      }
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return out;
      throw new OrbiterError('LakeWriteFailed', `Could not list ${container}/${prefix}: ${(err as Error).message}`, { retryable: true, cause: err });
    }
    return out;
  }
}
