import { OrbiterError } from '../errors';
import type { Job } from '../databricks/schemas';
import { getCatalogDataset } from './loader';
import type { JobCatalog } from './schema';

export interface JobLookup {
  findJobsByName(name: string, opts?: { abortSignal?: AbortSignal }): Promise<Job[]>;
}

export interface JobIdResolverOptions {
  /** How long a name → id mapping is trusted (default 10 minutes); call invalidate() after a NotFound. */
  ttlMs?: number;
  now?: () => number;
}

/** Resolves a dataset's job (by name, via jobs/list) to its id, cached; concurrent lookups share one call. */
export class JobIdResolver {
  private readonly cache = new Map<string, { jobId: number; at: number }>();
  private readonly pending = new Map<string, Promise<number>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly jobs: JobLookup,
    private readonly catalog: JobCatalog,
    options: JobIdResolverOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
  }

  async resolve(dataset: string, opts?: { abortSignal?: AbortSignal }): Promise<number> {
    const entry = getCatalogDataset(this.catalog, dataset);
    if (entry.job.id !== undefined) return entry.job.id;
    const name = entry.job.name;
    const hit = this.cache.get(name);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.jobId;
    let p = this.pending.get(name);
    if (!p) {
      p = this.lookup(name, opts).finally(() => this.pending.delete(name));
      this.pending.set(name, p);
    }
    return p;
  }

  invalidate(dataset?: string): void {
    if (dataset === undefined) this.cache.clear();
    else this.cache.delete(getCatalogDataset(this.catalog, dataset).job.name);
  }

  private async lookup(name: string, opts?: { abortSignal?: AbortSignal }): Promise<number> {
    const jobs = await this.jobs.findJobsByName(name, opts);
    if (jobs.length === 0) throw new OrbiterError('JobNotFound', `No Databricks job named "${name}"`, { details: { jobName: name } });
    if (jobs.length > 1) {
      throw new OrbiterError('JobNotFound', `${jobs.length} Databricks jobs are named "${name}"; names must be unique`, {
        details: { jobName: name, jobIds: jobs.map((j) => j.job_id) },
      });
    }
    const jobId = jobs[0]!.job_id;
    this.cache.set(name, { jobId, at: this.now() });
    return jobId;
  }
}
