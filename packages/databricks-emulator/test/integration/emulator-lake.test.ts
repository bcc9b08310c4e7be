import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { AzureBlobSource, type BlobRef } from '../../src/blobSource';
import { jobIdFor } from '../../src/bundle';
import { startDatabricksEmulator, type DatabricksEmulator, LOCAL_TOKEN } from '../../src/emulator';
import { BlobManifestStore } from 'orbiter/shared/dispatch/manifests';
import { DatabricksJobsClient, PatTokenProvider, isTerminalLifeCycleState, type Run } from 'orbiter/shared/databricks/index';
import { startTestAzurite } from '../../../../test/support/azurite';
import { FakeNotebookRunner, waitFor } from '../fixtures/fakeRunner';

jest.setTimeout(120_000);

const BUNDLE = join(__dirname, '..', 'fixtures', 'bundle', 'databricks.yml');
const PIPELINE = jobIdFor('orbiter-neows-pipeline');

const settle = (client: DatabricksJobsClient, runId: number): Promise<Run> =>
  waitFor(
    async () => {
      const run = await client.getRun(runId);
      return isTerminalLifeCycleState(run.state?.life_cycle_state) ? run : undefined;
    },
    15_000,
    `run ${runId} to terminate`,
  );

describe('emulator inputs: manifest blobs from Azurite into the local lake', () => {
  let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
  let dir: string;
  let emulator: DatabricksEmulator;
  let client: DatabricksJobsClient;
  let runner: FakeNotebookRunner;
  const seenFiles: string[][] = [];
  const etags: Record<string, string> = {};

  beforeAll(async () => {
    azurite = await startTestAzurite();
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const raw = service.getContainerClient('raw');
    await raw.createIfNotExists();
    for (const [path, body] of [
      ['neows/feed/2024/05/25/2024-05-25_2024-05-31.json', '{"element_count":1}'],
      ['neows/feed/2024/06/01/2024-06-01_2024-06-07.json', '{"element_count":2}'],
      ['donki/FLR/2024/05/25/2024-05-25_2024-05-31.json', '[]'],
    ] as const) {
      const res = await raw.getBlockBlobClient(path).upload(body, body.length);
      etags[path] = res.etag!;
    }
    dir = mkdtempSync(join(tmpdir(), 'dbx-lake-'));
    const lake = join(dir, 'lake');
    runner = new FakeNotebookRunner(5, (req) => {
      if (req.taskKey === 'bronze') {
        seenFiles.push(
          Object.keys(etags)
            .filter((p) => existsSync(join(req.parameters['lake_root']!, 'raw', p)))
            .sort(),
        );
      }
    });
    emulator = await startDatabricksEmulator({
      bundlePath: BUNDLE,
      workDir: join(dir, 'work'),
      lakeRoot: lake,
      runner,
      blobSource: new AzureBlobSource(azurite.connectionString),
    });
    client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(LOCAL_TOKEN) });
  });

  afterAll(async () => {
    await emulator?.close();
    await azurite?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fetches the manifest files (checking ETags) before the first task', async () => {
    const path = 'neows/feed/2024/05/25/2024-05-25_2024-05-31.json';
    const manifest = JSON.stringify({ files: [{ container: 'raw', path, etag: etags[path] }] });
    const { run_id } = await client.runNow({
      job_id: PIPELINE,
      job_parameters: { input_manifest: manifest, lake_root: 'abfss://{zone}@acct.dfs.core.windows.net' },
    });
    expect((await settle(client, run_id)).state?.result_state).toBe('SUCCESS');
    expect(seenFiles.at(-1)).toEqual([path]);
    expect(readFileSync(join(dir, 'lake', 'raw', path), 'utf8')).toBe('{"element_count":1}');
    expect(runner.calls.at(-1)!.parameters['input_manifest']).toBe(manifest);
  });

  it('fetches everything under raw/<source>/ for an empty manifest', async () => {
    const { run_id } = await client.runNow({ job_id: PIPELINE, job_parameters: { input_manifest: '{"files":[]}' } });
    expect((await settle(client, run_id)).state?.result_state).toBe('SUCCESS');
    expect(seenFiles.at(-1)).toEqual(['neows/feed/2024/05/25/2024-05-25_2024-05-31.json', 'neows/feed/2024/06/01/2024-06-01_2024-06-07.json']);
  });

  it('resolves a manifest by reference: fetches the manifest blob, then exactly the files it lists', async () => {
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const raw = service.getContainerClient('raw');
    const listed = Array.from({ length: 60 }, (_, i) => `eonet/events/2025/10/01/2025-10-01_2025-10-02.p${String(i + 1).padStart(4, '0')}.json`);
    const unlisted = 'eonet/events/2025/10/01/2025-10-01_2025-10-02.p0099.json';
    const files: BlobRef[] = [];
    for (const path of [...listed, unlisted]) {
      const res = await raw.getBlockBlobClient(path).upload('{"events":[]}', 13);
      if (path !== unlisted) files.push({ container: 'raw', path, etag: res.etag! });
    }
    const events = service.getContainerClient('events');
    await events.createIfNotExists();
    const ref = await new BlobManifestStore(events).put('eonet-ref-1', 'eonet', files);
    const param = JSON.stringify({ ref });
    const { run_id } = await client.runNow({ job_id: PIPELINE, job_parameters: { input_manifest: param, source: 'eonet' } });
    expect((await settle(client, run_id)).state?.result_state).toBe('SUCCESS');
    const lake = join(dir, 'lake');
    expect(listed.filter((p) => !existsSync(join(lake, 'raw', p)))).toEqual([]);
    expect(existsSync(join(lake, 'raw', unlisted))).toBe(false);
    // The manifest itself is in the local lake, where the notebooks resolve the same ref; they get the parameter as sent.
    expect(JSON.parse(readFileSync(join(lake, 'events', ref.path), 'utf8'))).toEqual({ files });
    expect(runner.calls.at(-1)!.parameters['input_manifest']).toBe(param);
  });

  it('fails a run whose referenced manifest is missing or not a manifest as a client error naming the manifest', async () => {
    const before = runner.calls.length;
    const events = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('events');
    await events.createIfNotExists();
    const run = async (path: string) =>
      settle(
        client,
        (await client.runNow({ job_id: PIPELINE, job_parameters: { input_manifest: JSON.stringify({ ref: { container: 'events', path } }) } }))
          .run_id,
      );

    const missing = await run('manifests/neows/absent.json');
    expect(missing.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'FAILED' });
    expect(missing.status?.termination_details).toMatchObject({
      code: 'RESOURCE_NOT_FOUND',
      type: 'CLIENT_ERROR',
      message: expect.stringContaining('Input manifest events/manifests/neows/absent.json does not exist'),
    });

    await events.getBlockBlobClient('manifests/neows/bad-json.json').upload('{"files": [', 11);
    const badJson = await run('manifests/neows/bad-json.json');
    expect(badJson.status?.termination_details).toMatchObject({
      code: 'INVALID_RUN_CONFIGURATION',
      type: 'CLIENT_ERROR',
      message: expect.stringContaining('Input manifest events/manifests/neows/bad-json.json is not JSON'),
    });

    await events.getBlockBlobClient('manifests/neows/nested.json').upload('{"ref":{"container":"events","path":"x.json"}}', 46);
    const nested = await run('manifests/neows/nested.json');
    expect(nested.status?.termination_details).toMatchObject({
      code: 'INVALID_RUN_CONFIGURATION',
      message: expect.stringMatching(/manifests\/neows\/nested\.json is not \{"files".*files/),
    });

    // A listed input that is missing fails the run the same way as inline.
    const gone = await new BlobManifestStore(events).put('neows-gone', 'neows', [{ container: 'raw', path: 'neows/feed/gone.json' }]);
    const goneRun = await run(gone.path);
    expect(goneRun.status?.termination_details).toMatchObject({
      code: 'RESOURCE_NOT_FOUND',
      message: expect.stringContaining('raw/neows/feed/gone.json'),
    });
    expect(runner.calls.length).toBe(before);
  });

  it('fails the run as a client error, without running notebooks, when an input is missing or changed', async () => {
    const before = runner.calls.length;
    const missing = JSON.stringify({ files: [{ container: 'raw', path: 'neows/feed/nope.json' }] });
    const a = await settle(client, (await client.runNow({ job_id: PIPELINE, job_parameters: { input_manifest: missing } })).run_id);
    expect(a.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'FAILED' });
    expect(a.status?.termination_details).toMatchObject({ code: 'RESOURCE_NOT_FOUND', type: 'CLIENT_ERROR' });

    const path = 'neows/feed/2024/06/01/2024-06-01_2024-06-07.json';
    const stale = JSON.stringify({ files: [{ container: 'raw', path, etag: '"0x8DEADBEEF"' }] });
    const b = await settle(client, (await client.runNow({ job_id: PIPELINE, job_parameters: { input_manifest: stale } })).run_id);
    expect(b.status?.termination_details).toMatchObject({ code: 'INVALID_RUN_CONFIGURATION', type: 'CLIENT_ERROR' });

    const c = await settle(client, (await client.runNow({ job_id: PIPELINE, job_parameters: { input_manifest: '{"files": [' } })).run_id);
    expect(c.status?.termination_details).toMatchObject({ type: 'CLIENT_ERROR' });
    expect(runner.calls.length).toBe(before);
  });
});

describe('emulator persistence', () => {
  it('keeps runs and idempotency tokens across a restart; runs cut off by the restart end INTERNAL_ERROR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbx-persist-'));
    const opts = { bundlePath: BUNDLE, workDir: join(dir, 'work'), lakeRoot: join(dir, 'lake'), persist: true };
    try {
      const runner = new FakeNotebookRunner();
      let emulator = await startDatabricksEmulator({ ...opts, runner });
      let client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(LOCAL_TOKEN) });
      const done = await client.runNow({ job_id: PIPELINE, idempotency_token: 'persist-1' });
      await settle(client, done.run_id);
      runner.hold('gold');
      const cut = await client.runNow({ job_id: PIPELINE, idempotency_token: 'persist-2' });
      await waitFor(() => runner.blocked('gold') === 1, 5000, 'gold to start');
      await emulator.close();

      emulator = await startDatabricksEmulator({ ...opts, runner: new FakeNotebookRunner() });
      client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(LOCAL_TOKEN) });
      expect((await client.getRun(done.run_id)).state?.result_state).toBe('SUCCESS');
      expect((await client.runNow({ job_id: PIPELINE, idempotency_token: 'persist-1' })).run_id).toBe(done.run_id);
      const interrupted = await client.getRun(cut.run_id);
      expect(interrupted.state?.life_cycle_state).toBe('INTERNAL_ERROR');
      expect(interrupted.status?.termination_details?.type).toBe('INTERNAL_ERROR');
      const fresh = await client.runNow({ job_id: PIPELINE });
      expect(fresh.run_id).toBeGreaterThan(cut.run_id);
      await settle(client, fresh.run_id);
      await emulator.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
