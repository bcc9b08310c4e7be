import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { OrbiterError } from '../errors';
import { CatalogDatasetSchema, JobCatalogFileSchema, REQUIRED_JOB_PARAMETERS, type CatalogDataset, type JobCatalog } from './schema';

export interface CatalogIssue {
  /** Dotted path in the file, e.g. datasets.neows.retryPolicy.retryOn.CLIENT_ERROR */
  path: string;
  message: string;
}

function issuesOf(error: z.ZodError, prefix: (string | number)[] = []): CatalogIssue[] {
  return error.issues.map((i) => ({ path: [...prefix, ...i.path.map(String)].join('.') || '(root)', message: i.message }));
}

function invalid(source: string, issues: CatalogIssue[]): OrbiterError {
  const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new OrbiterError('ConfigInvalid', `Job catalog ${source} is invalid: ${list}`, { details: { source, issues } });
}

/** Validates a parsed catalog document and resolves defaults; errors name every offending field. */
export function parseJobCatalog(raw: unknown, source = '(inline)'): JobCatalog {
  const file = JobCatalogFileSchema.safeParse(raw);
  if (!file.success) throw invalid(source, issuesOf(file.error));
  const { defaults, datasets } = file.data;
  const issues: CatalogIssue[] = [];
  const resolved: Record<string, CatalogDataset> = {};
  for (const [dataset, entry] of Object.entries(datasets)) {
    const merged = {
      ...defaults,
      ...entry,
      jobParameters: { ...defaults.jobParameters, ...entry.jobParameters },
    };
    const parsed = CatalogDatasetSchema.safeParse(merged);
    if (!parsed.success) {
      issues.push(...issuesOf(parsed.error, ['datasets', dataset]));
      continue;
    }
    const value = parsed.data;
    for (const name of REQUIRED_JOB_PARAMETERS) {
      if (!(name in value.jobParameters))
        issues.push({ path: `datasets.${dataset}.jobParameters.${name}`, message: 'is required by the notebook contract' });
    }
    value.userParameters.forEach((p, i) => {
      if (p.name in value.jobParameters) {
        issues.push({ path: `datasets.${dataset}.userParameters.${i}.name`, message: `"${p.name}" is already mapped from the request` });
      }
    });
    resolved[dataset] = { dataset, ...value };
  }
  if (issues.length > 0) throw invalid(source, issues);
  return Object.freeze({ version: 1, datasets: Object.freeze(resolved) });
}

/** Reads and validates the catalog file (JOB_CATALOG_PATH, default config/job-catalog.json). */
export async function loadJobCatalog(path: string): Promise<JobCatalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new OrbiterError('ConfigInvalid', `Job catalog ${path} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new OrbiterError('ConfigInvalid', `Job catalog ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseJobCatalog(raw, path);
}

export function getCatalogDataset(catalog: JobCatalog, dataset: string): CatalogDataset {
  const entry = catalog.datasets[dataset];
  if (!entry) throw new OrbiterError('NotFound', `Dataset "${dataset}" is not in the job catalog`, { details: { dataset } });
  return entry;
}
