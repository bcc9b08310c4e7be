import { parseJobCatalog } from '../../../shared/catalog';
import { MemoryIdempotencyStore } from '../../../shared/api/idempotency';
import { BucketRunQuota, MemoryBucketStore } from '../../../shared/api/quota';
import type { RunApiDeps } from '../../../shared/api/runs';
import type { RunRequest } from '../../../shared/messages/runRequest';
import { MemoryRunStore } from '../../support/dispatchFakes';

export const apiCatalog = parseJobCatalog({
  version: 1,
  defaults: {
    jobParameters: {
      source: { from: 'dataset' },
      lake_root: { from: 'lakeRoot' },
      input_manifest: { from: 'inputManifest' },
      orbiter_run_id: { from: 'runId' },
      traceparent: { from: 'traceparent' },
    },
    userParameters: [],
    coalescingWindowSeconds: 60,
    maxRunsInFlight: 1,
    retryPolicy: { retryOn: { CLOUD_FAILURE: { maxAttempts: 3 } }, strategy: 'repair', backoff: { initialSeconds: 10, maxSeconds: 60 } },
  },
  datasets: {
    neows: {
      job: { name: 'orbiter-neows-pipeline' },
      userParameters: [
        { name: 'mode', type: 'enum', values: ['full', 'incremental'] },
        { name: 'max_files', type: 'integer', minimum: 1, maximum: 10 },
      ],
    },
    epic: { job: { name: 'orbiter-epic-pipeline' } },
    donki: { job: { name: 'orbiter-donki-pipeline' } },
  },
});

/** The API's dependencies over in-memory fakes that keep the real rules (ETags, createIfAbsent). */
export function apiDeps(blobs: Record<string, string> = {}) {
  const sent: { messageId: string; request: RunRequest }[] = [];
  const cancelled: number[] = [];
  const runs = new MemoryRunStore();
  const idempotency = new MemoryIdempotencyStore();
  let n = 0;
  const deps: RunApiDeps = {
    runs,
    catalog: apiCatalog,
    idempotency,
    idempotencyTtlMs: 24 * 3_600_000,
    quota: new BucketRunQuota(new MemoryBucketStore(), 120, () => new Date('2024-06-10T12:00:00Z')),
    raw: {
      etagOf: (p) => Promise.resolve(blobs[p]),
      async *list(prefix) {
        for (const [name, etag] of Object.entries(blobs)) if (name.startsWith(prefix)) yield { name, etag };
      },
    },
    send: (messageId, request) => {
      sent.push({ messageId, request });
      return Promise.resolve();
    },
    jobs: () => Promise.resolve({ cancelRun: (id: number) => (cancelled.push(id), Promise.resolve()) }),
    databricks: () => Promise.reject(new Error('no Databricks in this test')),
    now: () => new Date('2024-06-10T12:00:00Z'),
    newId: () => `id${++n}`,
  };
  return { deps, sent, cancelled, runs, idempotency };
}
