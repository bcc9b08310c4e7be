import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { lakePathProblem } from 'orbiter/shared/lake/lakePath';
import { z } from 'zod';
import { InputManifestSchema } from 'orbiter/shared/catalog/index';
import { ManifestRefParameterSchema } from 'orbiter/shared/dispatch/manifests';
import { isOrbiterError, OrbiterError } from 'orbiter/shared/errors';
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
  if (
    requested === undefined ||
    requested.trim() === '' ||
    requested.includes('{zone}') ||
    requested.startsWith('abfss://') ||
    requested.includes('${')
  ) {
    return lakeRoot;
  }
  return requested;
}

export const ManifestSchema = z.object({
  files: z.array(z.object({ container: z.string().min(1), path: z.string().min(1), etag: z.string().optional() })).default([]),
});

/** A manifest by reference: the blob holding `{"files":[...]}` (docs/contracts.md). */
export interface ManifestBlobRef {
  ref: Pick<BlobRef, 'container' | 'path'>;
}

/**
 * Parses the input_manifest parameter: '' (or no files) means "everything under raw/<source>/", `{"ref":{...}}` names a
 * manifest blob (see resolveManifestRef). Throws on malformed JSON or shape.
 */
export function parseManifest(value: string | undefined): BlobRef[] | 'all' | ManifestBlobRef {
  if (value === undefined || value.trim() === '') return 'all';
  const json: unknown = JSON.parse(value);
  if (json !== null && typeof json === 'object' && 'ref' in json) return ManifestRefParameterSchema.parse(json);
  const parsed = ManifestSchema.parse(json);
  return parsed.files.length === 0 ? 'all' : parsed.files;
}

/**
 * Fetches a referenced manifest into the local lake (where the notebooks read it too) and returns its files; a manifest
 * without files means "everything", as inline. Errors say which manifest and what is wrong with it.
 */
export async function resolveManifestRef(
  ref: ManifestBlobRef['ref'],
  lakeRoot: string,
  blobs: BlobSource,
  signal?: AbortSignal,
): Promise<BlobRef[] | 'all'> {
  const where = `${ref.container}/${ref.path}`;
  const local = localBlobPath(lakeRoot, ref);
  try {
    await blobs.download({ container: ref.container, path: ref.path }, local, signal);
  } catch (err) {
    if (isOrbiterError(err, 'NotFound')) throw new OrbiterError('NotFound', `Input manifest ${where} does not exist`, { cause: err });
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(local, 'utf8'));
  } catch (err) {
    throw new OrbiterError('ManifestInvalid', `Input manifest ${where} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  // The blob holds the inline form only: `files` is required (a nested ref or another shape is refused).
  const parsed = InputManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new OrbiterError('ManifestInvalid', `Input manifest ${where} is not {"files":[{container,path,etag}]}: ${issues}`);
  }
  return parsed.data.files.length === 0 ? 'all' : parsed.data.files;
}

/** The local file for a blob; refuses paths that would escape the lake directory. */
export function localBlobPath(lakeRoot: string, ref: Pick<BlobRef, 'container' | 'path'>): string {
  // Checked before normalising: raw/neows/../../quarantine/x normalises to a path inside the lake, in another zone.
  const problem = lakePathProblem(ref.path);
  if (!/^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/.test(ref.container) || problem)
    throw new RangeError(`blob path is not inside a lake zone: ${ref.container}/${JSON.stringify(ref.path)}${problem ? ` (${problem})` : ''}`);
  const rel = normalize(join(ref.container, ref.path));
  if (isAbsolute(ref.path) || rel.startsWith('..') || rel.split(sep).includes('..'))
    throw new RangeError(`blob path escapes the lake: ${ref.container}/${ref.path}`);
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
  const parsed = parseManifest(manifestParam);
  const manifest = parsed !== 'all' && 'ref' in parsed ? await resolveManifestRef(parsed.ref, lakeRoot, blobs, signal) : parsed;
  const refs = manifest === 'all' ? (source ? await blobs.list('raw', `${source}/`, signal) : []) : manifest;
  for (const ref of refs) await blobs.download(ref, localBlobPath(lakeRoot, ref), signal);
  return refs;
}
