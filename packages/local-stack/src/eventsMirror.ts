import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { BlobServiceClient } from '@azure/storage-blob';
import { Containers, RunCompletionsPrefix } from 'orbiter/shared/names';

/**
 * Copies the completion events the dispatcher wrote to the lake (Azurite, container `events`) into the local
 * Databricks workspace's lake folder, where the run-metrics stream reads `events/run-completions/`. On Databricks the
 * notebook reads the container itself; the emulator's notebooks read a local folder. Files already there are kept
 * (an event is written once and never changed); each copy lands whole (temporary file, then rename). Returns the
 * number of files copied.
 */
export async function mirrorCompletionEvents(blobs: BlobServiceClient, lakeRoot: string): Promise<number> {
  const container = blobs.getContainerClient(Containers.events);
  const root = resolve(lakeRoot, Containers.events);
  let copied = 0;
  for await (const item of container.listBlobsFlat({ prefix: `${RunCompletionsPrefix}/` })) {
    const target = resolve(root, item.name);
    // Blob names come from storage: one that climbs out of the events folder is not copied.
    if (relative(root, target).startsWith(`..${sep}`) || !target.startsWith(root + sep)) continue;
    if (existsSync(target)) continue;
    const body = await container.getBlobClient(item.name).downloadToBuffer();
    mkdirSync(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${process.pid}.${copied}.tmp`);
    writeFileSync(tmp, body);
    renameSync(tmp, target);
    copied++;
  }
  return copied;
}
