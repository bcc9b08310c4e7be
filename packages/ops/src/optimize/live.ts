import { resolve } from 'node:path';
import { loadJobCatalog } from 'orbiter/shared/catalog/loader';
import type { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import { collectRunMetrics } from './collect';
import { loadCostRates } from './rates';
import { buildReport, type OptimizeReport } from './report';

export interface LiveReportOptions {
  client: DatabricksJobsClient;
  /** Folder holding config/cost-rates.json and config/job-catalog.json (paths below are relative to it). */
  root: string;
  since: Date;
  now?: Date;
  ratesPath?: string;
  catalogPath?: string;
  jobNames?: string[];
}

/** Collects the runs from the Jobs API and builds the report (the CLI and the dashboard panel). */
export async function liveReport(o: LiveReportOptions): Promise<OptimizeReport> {
  const now = o.now ?? new Date();
  const rates = loadCostRates(resolve(o.root, o.ratesPath ?? 'config/cost-rates.json'));
  const catalog = await loadJobCatalog(resolve(o.root, o.catalogPath ?? 'config/job-catalog.json'));
  const coalescingWindows = Object.fromEntries(Object.values(catalog.datasets).map((d) => [d.job.name, d.coalescingWindowSeconds]));
  const runs = await collectRunMetrics(o.client, { since: o.since, until: now, ...(o.jobNames ? { jobNames: o.jobNames } : {}) });
  return buildReport({ runs, rates, since: o.since, until: now, coalescingWindows }, now);
}
