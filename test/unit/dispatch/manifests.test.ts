import { handleControl } from '../../../shared/dispatch/control';
import { acceptRunRequest } from '../../../shared/dispatch/accept';
import { manifestBlobName, withManifestRef, ManifestRefParameterSchema } from '../../../shared/dispatch/manifests';
import type { RunRequest } from '../../../shared/messages/runRequest';
import { InputManifestSchema, parseJobCatalog } from '../../../shared/catalog';
import { OrbiterError } from '../../../shared/errors';
import { apiRun, fakeDeps, testCatalogInput } from '../../support/dispatchFakes';

const T0 = Date.parse('2026-11-24T10:00:05Z');

function landed(i: number, dataset: RunRequest['dataset'] = 'neows'): RunRequest {
  return {
    schema: 'orbiter.run-request',
    version: 1,
    requestId: `req-${dataset}-${i}`,
    dataset,
    origin: 'blob-landed',
    inputs: [
      {
        container: 'raw',
        path: `${dataset}/feed/2024/05/25/2024-05-25_2024-05-31.p${String(i).padStart(4, '0')}.0123456789abcdef.json`,
        etag: `"0x8DC${i}"`,
      },
    ],
    parameters: {},
    correlationId: `corr-${i}`,
    requestedAt: new Date(T0 + i).toISOString(),
  };
}

/** Lands `n` blobs in one window and delivers the batch's flush; returns the run's record and its job parameters. */
async function flushBurst(n: number, dataset: RunRequest['dataset'] = 'neows') {
  const now = { t: T0 };
  const deps = fakeDeps(now);
  for (let i = 0; i < n; i++) await acceptRunRequest(landed(i, dataset), deps);
  const flush = deps.scheduler.take();
  expect(flush).toHaveLength(1);
  await handleControl(flush[0]!, deps);
  const record = [...deps.runs.rows.values()][0]!.record;
  const params = deps.jobs.runs.get(record.databricksRunId!)!.params!;
  return { deps, now, flush: flush[0]!, record, params };
}

const pathsOf = (files: { container: string; path: string; etag?: string }[]) => files.map((f) => `${f.container}/${f.path}@${f.etag}`).sort();

describe('input manifest by reference', () => {
  it('a 300-input run passes a ref whose stored manifest lists exactly its 300 files', async () => {
    const { deps, record, params } = await flushBurst(300);
    expect(record.inputs).toHaveLength(300);
    const param = ManifestRefParameterSchema.parse(JSON.parse(params['input_manifest']!));
    expect(param.ref).toEqual({ container: 'events', path: `manifests/neows/${record.runId}.json` });
    const stored = InputManifestSchema.parse(deps.manifests.read(param.ref));
    expect(stored.files).toHaveLength(300);
    expect(pathsOf(stored.files)).toEqual(pathsOf(Array.from({ length: 300 }, (_, i) => landed(i).inputs[0]!)));
    expect(params['input_manifest']!.length).toBeLessThan(200);
    // The other parameters are the usual ones.
    expect(params).toMatchObject({ source: 'neows', orbiter_run_id: record.runId, lake_root: deps.lakeRoot });
  });

  it('small runs stay inline and write no manifest blob', async () => {
    const { deps, params } = await flushBurst(3, 'apod');
    expect(deps.manifests.puts).toBe(0);
    const inline = InputManifestSchema.parse(JSON.parse(params['input_manifest']!));
    expect(pathsOf(inline.files)).toEqual(pathsOf([0, 1, 2].map((i) => landed(i, 'apod').inputs[0]!)));
  });

  it('the manifest is written before run-now; a failed write starts no run and the replay writes the same blob', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    for (let i = 0; i < 120; i++) await acceptRunRequest(landed(i), deps);
    const flush = deps.scheduler.take()[0]!;
    const put = deps.manifests.put.bind(deps.manifests);
    const order: string[] = [];
    let failPut = true;
    deps.manifests.put = async (...args) => {
      order.push('put');
      if (failPut) {
        failPut = false;
        throw new OrbiterError('LakeWriteFailed', 'storage unavailable', { retryable: true });
      }
      return put(...args);
    };
    const runNow = deps.jobs.runNow.bind(deps.jobs);
    deps.jobs.runNow = async (req) => {
      order.push('run-now');
      return runNow(req);
    };
    await handleControl(flush, deps);
    expect(deps.jobs.runNowCalls).toBe(0);
    // A transient write failure reschedules the flush (with backoff), which then dispatches the run.
    const retry = deps.scheduler.take();
    expect(retry).toEqual([expect.objectContaining({ schema: 'orbiter.dispatch-flush', failures: 1 })]);
    await handleControl(retry[0]!, deps);
    expect(order).toEqual(['put', 'put', 'run-now']);
    // Delivered again (e.g. the broker redelivers): the run is already dispatched, nothing more is written or started.
    await handleControl(flush, deps);
    expect(deps.jobs.runs.size).toBe(1);
    expect([...deps.manifests.blobs.keys()]).toHaveLength(1);
    const record = [...deps.runs.rows.values()][0]!.record;
    expect(deps.manifests.read({ container: 'events', path: manifestBlobName('neows', record.runId) }).files).toHaveLength(120);
  });

  it('a Run API run with many inputs goes by reference too', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const inputs = Array.from({ length: 400 }, (_, i) => landed(i).inputs[0]!);
    await acceptRunRequest(await apiRun(deps, { ...landed(0), origin: 'api', runId: 'api-big-1', inputs }), deps);
    const params = [...deps.jobs.runs.values()][0]!.params!;
    const { ref } = ManifestRefParameterSchema.parse(JSON.parse(params['input_manifest']!));
    expect(ref.path).toBe('manifests/neows/api-big-1.json');
    expect(pathsOf(deps.manifests.read(ref).files)).toEqual(pathsOf(inputs));
  });

  it('withManifestRef sets every parameter mapped from the manifest, and only those', () => {
    const catalog = parseJobCatalog({
      ...testCatalogInput,
      datasets: { neows: { job: { name: 'orbiter-neows-pipeline' }, jobParameters: { files: { from: 'inputManifest' }, mode: { value: 'x' } } } },
    });
    const entry = catalog.datasets['neows']!;
    const ref = { container: 'events', path: 'manifests/neows/r1.json' };
    const out = withManifestRef({ source: 'neows', input_manifest: '{"files":[]}', files: '{"files":[]}', mode: 'x' }, entry, ref);
    expect(out).toEqual({ source: 'neows', input_manifest: JSON.stringify({ ref }), files: JSON.stringify({ ref }), mode: 'x' });
  });

  it('manifest blob names are one per run and never leave their folder', () => {
    expect(manifestBlobName('neows', 'neows-20261124T1000-abc')).toBe('manifests/neows/neows-20261124T1000-abc.json');
    expect(() => manifestBlobName('neows', '../x')).toThrow(OrbiterError);
    expect(() => manifestBlobName('', 'r')).toThrow(OrbiterError);
  });
});
