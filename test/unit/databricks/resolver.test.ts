import { JobIdResolver, parseJobCatalog } from '../../../shared/catalog';
import type { Job } from '../../../shared/databricks/schemas';

const mapping = {
  source: { from: 'dataset' },
  lake_root: { from: 'lakeRoot' },
  input_manifest: { from: 'inputManifest' },
  orbiter_run_id: { from: 'runId' },
  traceparent: { from: 'traceparent' },
};
const catalog = parseJobCatalog({
  version: 1,
  defaults: {
    jobParameters: mapping,
    userParameters: [],
    coalescingWindowSeconds: 60,
    maxRunsInFlight: 1,
    retryPolicy: { retryOn: {}, strategy: 'new-run', backoff: { initialSeconds: 1, maxSeconds: 1 } },
  },
  datasets: {
    neows: { job: { name: 'orbiter-neows-pipeline' } },
    apod: { job: { name: 'orbiter-apod-pipeline', id: 77 } },
    twin: { job: { name: 'twin' } },
  },
});

describe('JobIdResolver', () => {
  it('caches name → id for the TTL, re-resolves after it or after invalidate()', async () => {
    let now = 0;
    let id = 1;
    const calls: string[] = [];
    const jobs = {
      findJobsByName: async (name: string): Promise<Job[]> => {
        calls.push(name);
        if (name === 'twin') return [{ job_id: 1 }, { job_id: 2 }];
        return [{ job_id: id, settings: { name } }];
      },
    };
    const resolver = new JobIdResolver(jobs, catalog, { ttlMs: 1000, now: () => now });
    expect(await resolver.resolve('neows')).toBe(1);
    id = 2; // the job was re-created
    now = 999;
    expect(await resolver.resolve('neows')).toBe(1);
    now = 1000;
    expect(await resolver.resolve('neows')).toBe(2);
    id = 3;
    resolver.invalidate('neows');
    expect(await resolver.resolve('neows')).toBe(3);
    expect(calls).toEqual(['orbiter-neows-pipeline', 'orbiter-neows-pipeline', 'orbiter-neows-pipeline']);

    expect(await resolver.resolve('apod')).toBe(77); // pinned id: no lookup
    expect(calls).toHaveLength(3);
    await expect(resolver.resolve('twin')).rejects.toMatchObject({ code: 'JobNotFound', details: { jobIds: [1, 2] } });
    await expect(resolver.resolve('mars')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('does not cache failures', async () => {
    let fail = true;
    const resolver = new JobIdResolver(
      {
        findJobsByName: async () => {
          if (fail) throw Object.assign(new Error('throttled'), { retryable: true });
          return [{ job_id: 5 }];
        },
      },
      catalog,
    );
    await expect(resolver.resolve('neows')).rejects.toThrow('throttled');
    fail = false;
    expect(await resolver.resolve('neows')).toBe(5);
  });
});
