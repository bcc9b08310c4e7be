import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * One dataset's rows as the visual insights job writes them locally: `<chartsDir>/datasets/<name>.json`, the result of
 * the dashboard definition's dataset query run on Spark SQL over the gold tables.
 */
export const DatasetFileSchema = z.object({
  dataset: z.string().min(1),
  generatedAt: z.string(),
  columns: z.array(z.object({ name: z.string().min(1), type: z.string() })),
  rows: z.array(z.record(z.string(), z.unknown())),
  truncated: z.boolean(),
});
export type DatasetFile = z.infer<typeof DatasetFileSchema>;

export class LakeviewDatasetError extends Error {
  readonly code = 'LakeviewDatasetInvalid';
}

export const datasetFile = (chartsDir: string, name: string): string => join(chartsDir, 'datasets', `${name}.json`);

/** A dataset's file, or undefined before the insights job wrote it; a malformed file or a misnamed dataset is an error. */
export function readDataset(chartsDir: string, name: string): DatasetFile | undefined {
  if (!/^[\w.-]+$/.test(name)) throw new LakeviewDatasetError(`dataset name "${name}" is not a plain file name`);
  const file = datasetFile(chartsDir, name);
  if (!existsSync(file)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LakeviewDatasetError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = DatasetFileSchema.safeParse(doc);
  if (!parsed.success) throw new LakeviewDatasetError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (parsed.data.dataset !== name) throw new LakeviewDatasetError(`${file} holds dataset "${parsed.data.dataset}", not "${name}"`);
  return parsed.data;
}

/** Changes whenever a dataset file or the definition changes (mtimes and sizes), so the live page knows to refetch. */
export function lakeviewVersion(files: readonly string[]): string {
  return files
    .map((f) => {
      if (!existsSync(f)) return '-';
      const s = statSync(f);
      return `${s.mtimeMs}:${s.size}`;
    })
    .join('|');
}
