import { isAbsolute, join, normalize, sep } from 'node:path';
import { z } from 'zod';
import type { BlobRef, BlobSource } from './blobSource';

/** abfss://<container>@<account>.dfs.core.windows.net[/<path>] */
const ABFSS = /^abfss:\/\/([^@/]+)@([^/]+?)\.dfs\.core\.windows\.net(?:\/(.*))?$/;

/**
 * Maps a lake URL to the emulator's local lake directory:
 * - a lake_root with "{zone}" (abfss://{zone}@acct.dfs.core.windows.net) → <lakeRoot>
 * - abfss://<container>@acct.dfs.core.windows.net/<path> → <lakeRoot>/<container>/<path>
 * Other values are returned unchanged.
 */
export function localiseLakeUrl(value: string, lakeRoot: string): string {
  const m = ABFSS.exec(value.trim());
  if (!m) return value;
  const container = m[1]!;
  const rest = (m[3] ?? '').replace(/\/+$/, '');
  if (container === '{zone}') return rest === '' ? lakeRoot : join(lakeRoot, '{zone}', rest);
  return rest === '' ? join(lakeRoot, container) : join(lakeRoot, container, rest);
}

/** The lake_root a notebook gets locally: the emulator's directory unless the caller gave a local path. */
export function localLakeRoot(requested: string | undefined, lakeRoot: string): string {
  // Also an unresolved bundle variable (`${var.lake_root}` without a value): locally the emulator's lake is meant.
  if (requested === undefined || requested.trim() === '' || requested.includes('{zone}') || requested.startsWith('abfss://') || requested.includes('${')) {
    return lakeRoot;
  }
  return requested;
}

export const ManifestSchema = z.object({
  files: z.array(z.object({ container: z.string().min(1), path: z.string().min(1), etag: z.string().optional() })).default([]),
});

/** Parses the input_manifest parameter; '' means "everything under raw/<source>/". Throws on malformed JSON. */
export function parseManifest(value: string | undefined): BlobRef[] | 'all' {
  if (value === undefined || value.trim() === '') return 'all';
  const parsed = ManifestSchema.parse(JSON.parse(value));
  return parsed.files.length === 0 ? 'all' : parsed.files;
}

/** The local file for a blob; refuses paths that would escape the lake directory. */
export function localBlobPath(lakeRoot: string, ref: Pick<BlobRef, 'container' | 'path'>): string {
  const rel = normalize(join(ref.container, ref.path));
  if (isAbsolute(ref.path) || rel.startsWith('..') || rel.split(sep).includes('..')) throw new RangeError(`blob path escapes the lake: ${ref.container}/${ref.path}`);
  return join(lakeRoot, rel);
}

/** Copies a run's input blobs from the blob source into <lakeRoot>/<container>/<path>; returns the files fetched. */
export async function materialiseInputs(
  manifestParam: string | undefined,
  source: string | undefined,
  lakeRoot: string,
  blobs: BlobSource,
  signal?: AbortSignal,
): Promise<BlobRef[]> {
  const manifest = parseManifest(manifestParam);
  const refs = manifest === 'all' ? (source ? await blobs.list('raw', `${source}/`, signal) : []) : manifest;
  for (const ref of refs) await blobs.download(ref, localBlobPath(lakeRoot, ref), signal);
  return refs;
}
