import { join } from 'node:path';
import {
  buildJobParameters,
  decideRetry,
  getCatalogDataset,
  loadJobCatalog,
  parseJobCatalog,
  userParametersSchema,
  type CatalogIssue,
} from '../../../shared/catalog';
import { isOrbiterError } from '../../../shared/errors';

const CATALOG = join(__dirname, '..', '..', '..', 'config', 'job-catalog.json');

const base = () => ({
  version: 1,
  defaults: {
    jobParameters: {
      source: { from: 'dataset' },
      lake_root: { from: 'lakeRoot' },
      input_manifest: { from: 'inputManifest' },
      orbiter_run_id: { from: 'runId' },
      traceparent: { from: 'traceparent' },
    },
    userParameters: [] as unknown[],
    coalescingWindowSeconds: 60,
    maxRunsInFlight: 1,
    retryPolicy: {
      retryOn: { CLOUD_FAILURE: { maxAttempts: 3 }, INTERNAL_ERROR: { maxAttempts: 2 } },
      strategy: 'repair',
      backoff: { initialSeconds: 30, maxSeconds: 300 },
    },
  } as Record<string, unknown>,
  datasets: { neows: { job: { name: 'orbiter-neows-pipeline' } } } as Record<string, unknown>,
});

function issues(raw: unknown): CatalogIssue[] {
  try {
    parseJobCatalog(raw, 'test.json');
  } catch (err) {
    expect(isOrbiterError(err, 'ConfigInvalid')).toBe(true);
    return (err as { details: { issues: CatalogIssue[] } }).details.issues;
  }
  throw new Error('catalog was accepted');
}

describe('job catalog', () => {
  it('loads config/job-catalog.json: eight datasets, each mapped to orbiter-<source>-pipeline', async () => {
    const catalog = await loadJobCatalog(CATALOG);
    expect(Object.keys(catalog.datasets).sort()).toEqual(['apod', 'cmr', 'donki', 'eonet', 'epic', 'fireball', 'meteorites', 'neows']);
    for (const [name, entry] of Object.entries(catalog.datasets)) {
      expect(entry.job.name).toBe(`orbiter-${name}-pipeline`);
      expect(Object.keys(entry.jobParameters).sort()).toEqual(['input_manifest', 'lake_root', 'orbiter_run_id', 'source', 'traceparent']);
      expect(entry.retryPolicy.retryOn).not.toHaveProperty('CLIENT_ERROR');
    }
    expect(() => getCatalogDataset(catalog, 'mars')).toThrow(expect.objectContaining({ code: 'NotFound' }));
  });

  it('names the offending field in validation errors', () => {
    const c1 = base();
    c1.datasets['neows'] = { job: { name: 'x' }, coalescingWindowSeconds: -5 };
    expect(issues(c1)).toEqual([expect.objectContaining({ path: 'datasets.neows.coalescingWindowSeconds' })]);

    const c2 = base();
    (c2.defaults['retryPolicy'] as { retryOn: Record<string, unknown> }).retryOn['CLIENT_ERROR'] = { maxAttempts: 2 };
    const found = issues(c2);
    expect(found[0]!.path).toBe('defaults.retryPolicy.retryOn.CLIENT_ERROR');
    expect(found[0]!.message).toMatch(/never retried/);

    const c3 = base();
    c3.datasets['donki'] = {};
    expect(issues(c3).map((i) => i.path)).toEqual(['datasets.donki.job']);

    const c4 = base();
    c4.datasets['eonet'] = { job: { name: 'e' }, jobParameters: { source: { from: 'weather' } } };
    expect(issues(c4)[0]!.path).toBe('datasets.eonet.jobParameters.source');

    const c5 = base();
    c5.datasets['Bad Name'] = { job: { name: 'x' } };
    expect(issues(c5)[0]!.path).toBe('datasets.Bad Name');

    const c6 = base();
    c6.datasets['apod'] = {
      job: { name: 'a' },
      userParameters: [
        { name: 'source', type: 'string' },
        { name: 'kind', type: 'enum' },
      ],
    };
    expect(
      issues(c6)
        .map((i) => i.path)
        .sort(),
    ).toEqual(['datasets.apod.userParameters.1.values']);

    const c7 = base();
    c7.datasets['apod'] = { job: { name: 'a' }, userParameters: [{ name: 'source', type: 'string' }] };
    expect(issues(c7)).toEqual([{ path: 'datasets.apod.userParameters.0.name', message: expect.stringMatching(/already mapped/) }]);

    const c8 = base();
    delete (c8.defaults['jobParameters'] as Record<string, unknown>)['traceparent'];
    expect(issues(c8)).toEqual([{ path: 'datasets.neows.jobParameters.traceparent', message: expect.stringMatching(/required/) }]);

    expect(issues({ ...base(), version: 2 })[0]!.path).toBe('version');
  });

  it('maps request fields to string job parameters and validates user parameters', () => {
    const raw = base();
    raw.datasets['cmr'] = {
      job: { name: 'orbiter-cmr-pipeline' },
      jobParameters: { fixed: { value: 'yes' } },
      userParameters: [
        { name: 'collection', type: 'string', pattern: '^[A-Z0-9_]+$', description: 'CMR short name' },
        { name: 'full_refresh', type: 'boolean', default: false },
        { name: 'days', type: 'integer', minimum: 1, maximum: 30 },
      ],
    };
    const catalog = parseJobCatalog(raw);
    const cmr = catalog.datasets['cmr']!;
    const params = buildJobParameters(cmr, {
      dataset: 'cmr',
      lakeRoot: 'abfss://{zone}@acct.dfs.core.windows.net',
      inputManifest: { files: [{ container: 'raw', path: 'cmr/MYD021KM/2024/05/25/a.json', etag: '0x8' }] },
      runId: 'run-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      userParameters: { collection: 'MYD021KM', days: 3 },
    });
    expect(params).toEqual({
      source: 'cmr',
      lake_root: 'abfss://{zone}@acct.dfs.core.windows.net',
      input_manifest: '{"files":[{"container":"raw","path":"cmr/MYD021KM/2024/05/25/a.json","etag":"0x8"}]}',
      orbiter_run_id: 'run-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      fixed: 'yes',
      collection: 'MYD021KM',
      full_refresh: 'false',
      days: '3',
    });
    const schema = userParametersSchema(cmr);
    expect(schema.safeParse({ collection: 'lower' }).success).toBe(false);
    expect(schema.safeParse({ unknown: 1 }).success).toBe(false);
    expect(schema.safeParse({ days: 31 }).success).toBe(false);
    expect(() =>
      buildJobParameters(cmr, { dataset: 'cmr', lakeRoot: '/l', inputManifest: { files: [] }, runId: 'r', userParameters: { days: 0 } }),
    ).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });

  it('retries only CLOUD_FAILURE / INTERNAL_ERROR, within max attempts, with growing delays', () => {
    const policy = parseJobCatalog(base()).datasets['neows']!.retryPolicy;
    expect(decideRetry(policy, 'CLOUD_FAILURE', 1)).toEqual({ retry: true, strategy: 'repair', delayMs: 30_000, nextAttempt: 2 });
    expect(decideRetry(policy, 'CLOUD_FAILURE', 2)).toMatchObject({ retry: true, delayMs: 60_000 });
    expect(decideRetry(policy, 'CLOUD_FAILURE', 3)).toMatchObject({ retry: false });
    expect(decideRetry(policy, 'INTERNAL_ERROR', 1)).toMatchObject({ retry: true });
    expect(decideRetry(policy, 'INTERNAL_ERROR', 2)).toMatchObject({ retry: false });
    expect(decideRetry(policy, 'CLIENT_ERROR', 1)).toMatchObject({ retry: false });
    expect(decideRetry(policy, 'SUCCESS', 1)).toMatchObject({ retry: false });
    expect(decideRetry(policy, 'SOMETHING_NEW', 1)).toMatchObject({ retry: false });
    expect(decideRetry(policy, undefined, 1)).toMatchObject({ retry: false });
  });
});
