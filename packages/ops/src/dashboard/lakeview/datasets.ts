import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../jsonFile';

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
  const data = readJsonFile(file, DatasetFileSchema, (m) => new LakeviewDatasetError(m));
  if (data && data.dataset !== name) throw new LakeviewDatasetError(`${file} holds dataset "${data.dataset}", not "${name}"`);
  return data;
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
