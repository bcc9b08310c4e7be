import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { DatabricksApiError, DatabricksJobsClient, PatTokenProvider, isTerminalLifeCycleState, type Run } from '../../../shared/databricks';
import { buildJobParameters, JobIdResolver, loadJobCatalog, parseJobCatalog } from '../../../shared/catalog';
import type { DatabricksEmulator } from '@orbiter/databricks-emulator/emulator';
import { startEmulatorWithBundle } from '@orbiter/databricks-emulator/localDeploy';
import { FakeNotebookRunner, waitFor } from '../../../packages/databricks-emulator/test/fixtures/fakeRunner';

jest.setTimeout(60_000);

const BUNDLE = join(__dirname, '..', '..', '..', 'packages', 'databricks-emulator', 'test', 'fixtures', 'bundle', 'databricks.yml');

describe('Jobs API client against the local Databricks emulator', () => {
  let emulator: DatabricksEmulator;
  let runner: FakeNotebookRunner;
  let client: DatabricksJobsClient;
  let dir: string;
  let pipelineId: number;
  let echoId: number;
  let nowaitId: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-emu-'));
    runner = new FakeNotebookRunner();
    const started = await startEmulatorWithBundle({ workDir: join(dir, 'work'), lakeRoot: join(dir, 'lake'), runner }, { bundlePath: BUNDLE });
    emulator = started.emulator;
    const ids = started.deployed.jobIdsByName;
    [pipelineId, echoId, nowaitId] = [ids['orbiter-neows-pipeline']!, ids['orbiter-echo']!, ids['orbiter-nowait']!];
    client = new DatabricksJobsClient({
      host: emulator.url,
      tokenProvider: new PatTokenProvider(emulator.token),
      retryPolicy: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 20 },
    });
  });

  afterEach(async () => {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const settle = (runId: number): Promise<Run> =>
    waitFor(
      async () => {
        const run = await client.getRun(runId);
        return isTerminalLifeCycleState(run.state?.life_cycle_state) ? run : undefined;
      },
      10_000,
      `run ${runId} to terminate`,
    );

  it('lists jobs (with name filter and paging) and gets one with its tasks', async () => {
    const all = await client.listJobs();
    expect(all.jobs.map((j) => j.settings?.name).sort()).toEqual(['orbiter-echo', 'orbiter-neows-pipeline', 'orbiter-nowait']);
    expect(all.has_more).toBe(false);

    const page1 = await client.listJobs({ limit: 2 });
    expect(page1.jobs).toHaveLength(2);
    expect(page1.has_more).toBe(true);
    const page2 = await client.listJobs({ limit: 2, page_token: page1.next_page_token! });
    expect(page2.jobs).toHaveLength(1);

    const found = await client.findJobsByName('orbiter-neows-pipeline');
    expect(found.map((j) => j.job_id)).toEqual([pipelineId]);

    const job = await client.getJob(pipelineId);
    expect(job.settings?.tasks?.map((t) => t.task_key)).toEqual(['bronze', 'silver', 'gold']);
    expect(job.settings?.tasks?.[1]?.depends_on).toEqual([{ task_key: 'bronze' }]);
    expect(job.settings?.max_concurrent_runs).toBe(1);
    expect(job.settings?.queue).toEqual({ enabled: true });
    expect(job.settings?.parameters).toContainEqual({ name: 'lake_root', default: 'abfss://{zone}@devlake.dfs.core.windows.net' });
  });

  it('resolves catalog job names to ids through jobs/list, once', async () => {
    const catalog = parseJobCatalog({
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
        coalescingWindowSeconds: 30,
        maxRunsInFlight: 1,
        retryPolicy: { retryOn: { CLOUD_FAILURE: { maxAttempts: 3 } }, strategy: 'repair', backoff: { initialSeconds: 1, maxSeconds: 10 } },
      },
      datasets: { neows: { job: { name: 'orbiter-neows-pipeline' } }, ghost: { job: { name: 'orbiter-ghost-pipeline' } } },
    });
    const lookups: string[] = [];
    const resolver = new JobIdResolver({ findJobsByName: (name, o) => (lookups.push(name), client.findJobsByName(name, o)) }, catalog);
    const [a, b] = await Promise.all([resolver.resolve('neows'), resolver.resolve('neows')]);
    expect(a).toBe(pipelineId);
    expect(b).toBe(pipelineId);
    expect(await resolver.resolve('neows')).toBe(pipelineId);
    expect(lookups).toEqual(['orbiter-neows-pipeline']);
    await expect(resolver.resolve('ghost')).rejects.toMatchObject({ code: 'JobNotFound' });
  });

  it('runs a multi-task job in dependency order with job parameters over defaults and a local lake_root', async () => {
    const { run_id } = await client.runNow({ job_id: pipelineId, job_parameters: { orbiter_run_id: 'r-1', traceparent: '00-abc-def-01' } });
    const run = await settle(run_id);
    expect(run.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' });
    expect(run.status).toEqual({ state: 'TERMINATED', termination_details: { code: 'SUCCESS', type: 'SUCCESS', message: '' } });
    expect(run.run_page_url).toBe(`${emulator.url}/?o=0#job/${pipelineId}/run/${run_id}`);
    expect(run.tasks?.map((t) => [t.task_key, t.state?.result_state])).toEqual([
      ['bronze', 'SUCCESS'],
      ['silver', 'SUCCESS'],
      ['gold', 'SUCCESS'],
    ]);
    expect(run.job_parameters).toContainEqual({ name: 'orbiter_run_id', default: '', value: 'r-1' });
    expect(runner.calls.map((c) => c.taskKey)).toEqual(['bronze', 'silver', 'gold']);
    const bronze = runner.calls[0]!;
    expect(bronze.parameters).toMatchObject({
      source: 'neows',
      orbiter_run_id: 'r-1',
      traceparent: '00-abc-def-01',
      stage: 'bronze',
      parent_run: String(run_id),
    });
    // abfss://{zone}@... becomes the emulator's lake directory.
    expect(bronze.parameters['lake_root']).toBe(join(dir, 'lake'));
    // The notebook deployed into the workspace (the bundle's notebooks/stage.py), not the repository's file.
    expect(bronze.notebookPath).toBe(
      join(
        dir,
        'work',
        'workspace',
        'files',
        'objects',
        'Users',
        'local-emulator@orbiter.local',
        '.bundle',
        'orbiter-test',
        'dev',
        'files',
        'notebooks',
        'stage.py',
      ),
    );

    // get-output is per task run; the multi-task job run itself is refused like Databricks does.
    const gold = run.tasks!.find((t) => t.task_key === 'gold')!;
    const out = await client.getRunOutput(gold.run_id);
    expect(out.notebook_output).toEqual({ result: 'gold', truncated: false });
    expect(out.metadata?.run_id).toBe(gold.run_id);
    await expect(client.getRunOutput(run_id)).rejects.toMatchObject({
      code: 'JobsApiError',
      kind: 'bad-request',
      databricksErrorCode: 'INVALID_PARAMETER_VALUE',
    });
  });

  it('honours idempotency_token: a repeat returns the existing run, even a failed one', async () => {
    const token = 'orbiter-echo-window-2024-05-25T00:00Z';
    const first = await client.runNow({ job_id: echoId, idempotency_token: token, job_parameters: { message: 'fail' } });
    const failed = await settle(first.run_id);
    expect(failed.state?.result_state).toBe('FAILED');
    expect(failed.status?.termination_details).toMatchObject({ code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR' });

    const again = await client.runNow({ job_id: echoId, idempotency_token: token, job_parameters: { message: 'different' } });
    expect(again.run_id).toBe(first.run_id);
    expect(runner.calls).toHaveLength(1);

    const output = await client.getRunOutput(first.run_id); // single-task job: the job run answers too
    expect(output.error).toBe('ValueError: asked to fail');
    expect(output.error_trace).toContain('Traceback');
    expect(output.notebook_output).toBeUndefined();

    expect(() => client.runNow({ job_id: echoId, idempotency_token: 'x'.repeat(65) })).toThrow(RangeError);
    // The emulator enforces the limit too (a client that skips validation gets Databricks' 400).
    const raw = await axios.post(
      `${emulator.url}/api/2.2/jobs/run-now`,
      { job_id: echoId, idempotency_token: 'x'.repeat(65) },
      { headers: { Authorization: `Bearer ${emulator.token}` }, validateStatus: () => true },
    );
    expect(raw.status).toBe(400);
    expect(raw.data).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });

  it('queues runs beyond max_concurrent_runs and starts them in order as slots free up', async () => {
    runner.hold('bronze');
    const a = await client.runNow({ job_id: pipelineId, job_parameters: { orbiter_run_id: 'a' } });
    const b = await client.runNow({ job_id: pipelineId, job_parameters: { orbiter_run_id: 'b' } });
    const c = await client.runNow({ job_id: pipelineId, job_parameters: { orbiter_run_id: 'c' } });
    await waitFor(() => runner.blocked('bronze') === 1, 5000, 'first run to reach bronze');
    const queued = await client.getRun(b.run_id);
    expect(queued.state?.life_cycle_state).toBe('QUEUED');
    expect(queued.status?.state).toBe('QUEUED');
    expect(queued.state?.queue_reason).toMatch(/maximum concurrent runs of 1/);
    expect((await client.getRun(a.run_id)).state?.life_cycle_state).toBe('RUNNING');

    const active = await client.listRuns({ job_id: pipelineId, active_only: true });
    expect(active.runs.map((r) => r.run_id)).toEqual([c.run_id, b.run_id, a.run_id]);

    runner.release('bronze');
    const results = await Promise.all([a, b, c].map((r) => settle(r.run_id)));
    expect(results.map((r) => r.state?.result_state)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    const order = runner.calls.filter((call) => call.taskKey === 'bronze').map((call) => call.parameters['orbiter_run_id']);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(results[1]!.queue_duration).toBeGreaterThanOrEqual(0);

    const completed = await client.listRuns({ job_id: pipelineId, completed_only: true, limit: 2 });
    expect(completed.runs).toHaveLength(2);
    expect(completed.has_more).toBe(true);
    const rest = await client.listRuns({ job_id: pipelineId, completed_only: true, limit: 2, page_token: completed.next_page_token! });
    expect(rest.runs.map((r) => r.run_id)).toEqual([a.run_id]);
    expect(() => client.listRuns({ limit: 26 })).toThrow(RangeError);
  });

  it('skips a run when the job is at its limit and queueing is off', async () => {
    runner.hold('only');
    const first = await client.runNow({ job_id: nowaitId });
    await waitFor(() => runner.blocked('only') === 1, 5000, 'first run to start');
    const second = await client.runNow({ job_id: nowaitId });
    const skipped = await client.getRun(second.run_id);
    expect(skipped.state).toMatchObject({ life_cycle_state: 'SKIPPED', result_state: 'MAXIMUM_CONCURRENT_RUNS_REACHED' });
    expect(skipped.status?.termination_details).toMatchObject({ code: 'MAX_CONCURRENT_RUNS_EXCEEDED', type: 'CLIENT_ERROR' });
    // queue.enabled on run-now overrides the job setting.
    const queued = await client.runNow({ job_id: nowaitId, queue: { enabled: true } });
    expect((await client.getRun(queued.run_id)).state?.life_cycle_state).toBe('QUEUED');
    runner.release('only');
    expect((await settle(first.run_id)).state?.result_state).toBe('SUCCESS');
    expect((await settle(queued.run_id)).state?.result_state).toBe('SUCCESS');
  });

  it('cancels asynchronously: a running task is killed, queued runs end CANCELED', async () => {
    runner.hold('silver');
    const running = await client.runNow({ job_id: pipelineId });
    const waiting = await client.runNow({ job_id: pipelineId });
    await waitFor(() => runner.blocked('silver') === 1, 5000, 'silver to start');

    await client.cancelRun(waiting.run_id);
    await client.cancelRun(running.run_id);
    const cancelled = await settle(running.run_id);
    expect(cancelled.state).toMatchObject({ life_cycle_state: 'TERMINATED', result_state: 'CANCELED', user_cancelled_or_timedout: true });
    expect(cancelled.status?.termination_details).toMatchObject({ code: 'USER_CANCELED' });
    expect(cancelled.tasks?.map((t) => t.state?.result_state)).toEqual(['SUCCESS', 'CANCELED', 'CANCELED']);
    expect(runner.killed.map((k) => k.taskKey)).toEqual(['silver']);
    expect(runner.calls.some((c) => c.taskKey === 'gold')).toBe(false);

    const never = await settle(waiting.run_id);
    expect(never.state?.result_state).toBe('CANCELED');
    expect(runner.calls.filter((c) => c.taskKey === 'bronze')).toHaveLength(1);
    await client.cancelRun(running.run_id); // cancelling a finished run is a no-op
  });

  it('repairs failed tasks with new job parameters, guarded by latest_repair_id', async () => {
    const { run_id } = await client.runNow({ job_id: pipelineId, job_parameters: { orbiter_run_id: 'fail:silver' } });
    const failed = await settle(run_id);
    expect(failed.state?.result_state).toBe('FAILED');
    expect(failed.tasks?.map((t) => t.state?.result_state)).toEqual(['SUCCESS', 'FAILED', 'UPSTREAM_FAILED']);
    expect(failed.state?.state_message).toMatch(/Task silver failed/);

    const { repair_id } = await client.repairRun({ run_id, rerun_all_failed_tasks: true, job_parameters: { orbiter_run_id: 'fixed' } });
    const repaired = await settle(run_id);
    expect(repaired.state?.result_state).toBe('SUCCESS');
    expect(repaired.repair_history?.map((h) => [h.type, h.state?.result_state])).toEqual([
      ['ORIGINAL', 'FAILED'],
      ['REPAIR', 'SUCCESS'],
    ]);
    expect(repaired.repair_history?.[1]?.id).toBe(repair_id);
    expect(repaired.tasks?.find((t) => t.task_key === 'silver')?.attempt_number).toBe(1);
    // bronze did not run again; silver and gold did, with the new parameter.
    expect(runner.calls.map((c) => `${c.taskKey}:${c.parameters['orbiter_run_id']}`)).toEqual([
      'bronze:fail:silver',
      'silver:fail:silver',
      'silver:fixed',
      'gold:fixed',
    ]);

    await expect(client.repairRun({ run_id, rerun_tasks: ['gold'] })).rejects.toMatchObject({
      kind: 'bad-request',
      databricksErrorCode: 'INVALID_PARAMETER_VALUE',
    });
    const second = await client.repairRun({ run_id, rerun_tasks: ['gold'], latest_repair_id: repair_id });
    expect(second.repair_id).toBeGreaterThan(repair_id);
    expect((await settle(run_id)).repair_history).toHaveLength(3);
  });

  it('reports runner crashes as INTERNAL_ERROR, unknown ids and missing auth like Databricks', async () => {
    const { run_id } = await client.runNow({ job_id: echoId, job_parameters: { message: 'crash' } });
    const crashed = await settle(run_id);
    expect(crashed.state?.life_cycle_state).toBe('INTERNAL_ERROR');
    expect(crashed.status?.termination_details).toMatchObject({ code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR' });

    await expect(client.getJob(424242)).rejects.toMatchObject({ code: 'NotFound', status: 400, databricksErrorCode: 'INVALID_PARAMETER_VALUE' });
    await expect(client.getRun(999_999)).rejects.toMatchObject({ code: 'NotFound' });
    await expect(client.runNow({ job_id: 424242 })).rejects.toMatchObject({ code: 'JobsApiError', kind: 'bad-request', status: 400 });
    await expect(client.runNow({ job_id: echoId, job_parameters: { nope: 'x' } })).rejects.toMatchObject({
      databricksErrorCode: 'INVALID_PARAMETER_VALUE',
    });

    const anon = await axios.get(`${emulator.url}/api/2.2/jobs/list`, { validateStatus: () => true });
    expect(anon.status).toBe(401);
    expect(anon.data).toEqual({ error_code: 'UNAUTHENTICATED', message: expect.any(String) });
    // Only the workspace's configured token is accepted.
    const wrong = await axios.get(`${emulator.url}/api/2.2/jobs/list`, {
      headers: { Authorization: 'Bearer not-the-token' },
      validateStatus: () => true,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.data).toMatchObject({ error_code: 'UNAUTHENTICATED' });
    // Jobs API paths the emulator does not serve (the 2.0 shapes) answer 501 in Databricks' error shape; other paths 404.
    const auth = { headers: { Authorization: `Bearer ${emulator.token}` }, validateStatus: () => true };
    const legacy = await axios.get(`${emulator.url}/api/2.0/jobs/list`, auth);
    expect(legacy.status).toBe(501);
    expect(legacy.data).toEqual({ error_code: 'NOT_IMPLEMENTED', message: expect.stringMatching(/2\.0\/jobs\/list/) });
    expect((await axios.get(`${emulator.url}/api/2.0/nothing-here`, auth)).status).toBe(404);
    const unauth = new DatabricksJobsClient({ host: emulator.url, tokenProvider: { getToken: () => Promise.resolve('') } });
    await expect(unauth.listJobs()).rejects.toBeInstanceOf(DatabricksApiError);
    await expect(unauth.listJobs()).rejects.toMatchObject({ code: 'Unauthorized', status: 401 });
    // Only the workspace's token is accepted, through the client too.
    const wrongClient = new DatabricksJobsClient({
      host: emulator.url,
      tokenProvider: new PatTokenProvider(`${emulator.token}x`),
      retryPolicy: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await expect(wrongClient.listJobs()).rejects.toMatchObject({ code: 'Unauthorized', status: 401 });
  });
});

describe('emulator task slots', () => {
  it('runs at most maxParallelTasks notebooks at once across runs; a run waiting for a slot can be cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbx-slots-'));
    const runner = new FakeNotebookRunner();
    const { emulator, deployed } = await startEmulatorWithBundle(
      { workDir: join(dir, 'w'), lakeRoot: join(dir, 'l'), runner, maxParallelTasks: 1 },
      { bundlePath: BUNDLE },
    );
    try {
      const client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(emulator.token) });
      const echo = deployed.jobIdsByName['orbiter-echo']!;
      runner.hold('only');
      const a = await client.runNow({ job_id: echo, job_parameters: { message: 'a' } });
      const b = await client.runNow({ job_id: echo, job_parameters: { message: 'b' } });
      const c = await client.runNow({ job_id: echo, job_parameters: { message: 'c' } });
      await waitFor(async () => (await client.getRun(c.run_id)).state?.life_cycle_state === 'RUNNING', 5000, 'c to be RUNNING');
      await waitFor(() => runner.blocked('only') === 1, 5000, 'one notebook to hold the slot');
      expect(runner.calls.map((x) => x.parameters['message'])).toEqual(['a']);
      await client.cancelRun(b.run_id);
      await waitFor(async () => (await client.getRun(b.run_id)).state?.result_state === 'CANCELED', 5000, 'b cancelled');
      runner.release('only');
      await waitFor(async () => (await client.getRun(c.run_id)).state?.result_state === 'SUCCESS', 5000, 'c done');
      expect((await client.getRun(a.run_id)).state?.result_state).toBe('SUCCESS');
      expect(runner.calls.map((x) => x.parameters['message'])).toEqual(['a', 'c']);
    } finally {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('emulator job notifications', () => {
  it("posts Databricks' webhook payloads for the events a job configures", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbx-notify-'));
    const received: { event_type: string; run: { run_id: string }; job: { job_id: string; name: string } }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as (typeof received)[number]);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/runtime/webhooks/databricks`;
    const runner = new FakeNotebookRunner();
    const { emulator, deployed } = await startEmulatorWithBundle(
      { workDir: join(dir, 'w'), lakeRoot: join(dir, 'l'), runner, notificationWebhookUrl: hookUrl },
      { bundlePath: BUNDLE },
    );
    try {
      const client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(emulator.token) });
      const echo = deployed.jobIdsByName['orbiter-echo']!;
      const ok = await client.runNow({ job_id: echo, job_parameters: { message: 'x' } });
      await waitFor(() => received.length === 2, 5000, 'start and success notifications');
      const bad = await client.runNow({ job_id: echo, job_parameters: { message: 'fail' } });
      await waitFor(() => received.length === 4, 5000, 'start and failure notifications');
      expect(received).toEqual([
        { event_type: 'jobs.on_start', workspace_id: '0', run: { run_id: String(ok.run_id) }, job: { job_id: String(echo), name: 'orbiter-echo' } },
        { event_type: 'jobs.on_success', workspace_id: '0', run: { run_id: String(ok.run_id) }, job: { job_id: String(echo), name: 'orbiter-echo' } },
        expect.objectContaining({ event_type: 'jobs.on_start', run: { run_id: String(bad.run_id) } }),
        expect.objectContaining({ event_type: 'jobs.on_failure', run: { run_id: String(bad.run_id) } }),
      ]);
      // no_alert_for_canceled_runs: a cancelled run sends its start only.
      runner.hold('only');
      const cancelled = await client.runNow({ job_id: echo });
      await waitFor(() => runner.blocked('only') === 1, 5000, 'run to start');
      await client.cancelRun(cancelled.run_id);
      await waitFor(async () => (await client.getRun(cancelled.run_id)).state?.result_state === 'CANCELED', 5000, 'cancel');
      await emulator.whenIdle();
      // A job without webhook_notifications sends nothing.
      const pipeline = await client.runNow({ job_id: deployed.jobIdsByName['orbiter-neows-pipeline']! });
      await waitFor(async () => (await client.getRun(pipeline.run_id)).state?.result_state === 'SUCCESS', 5000, 'pipeline');
      await emulator.close();
      expect(received.map((n) => `${n.event_type}:${n.run.run_id}`).slice(4)).toEqual([`jobs.on_start:${cancelled.run_id}`]);
    } finally {
      await emulator.close();
      hook.closeAllConnections();
      await new Promise<void>((r) => hook.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the real bundle (notebooks/databricks.yml, target local) quick-deployed on the emulator', () => {
  it('runs a dataset pipeline with parameters built from config/job-catalog.json', async () => {
    const repo = join(__dirname, '..', '..', '..');
    const dir = mkdtempSync(join(tmpdir(), 'dbx-real-'));
    const runner = new FakeNotebookRunner();
    const { emulator, deployed } = await startEmulatorWithBundle(
      { workDir: join(dir, 'w'), lakeRoot: join(dir, 'lake'), runner },
      { bundlePath: join(repo, 'notebooks', 'databricks.yml'), target: 'local' },
    );
    try {
      const client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(emulator.token) });
      const catalog = await loadJobCatalog(join(repo, 'config', 'job-catalog.json'));
      const resolver = new JobIdResolver(client, catalog);
      const entry = catalog.datasets['donki']!;
      const manifest = { files: [{ container: 'raw', path: 'donki/FLR/2024/05/25/2024-05-25_2024-05-31.json', etag: '0x1' }] };
      const job_parameters = buildJobParameters(entry, {
        dataset: 'donki',
        lakeRoot: 'abfss://{zone}@orbiterlake.dfs.core.windows.net',
        inputManifest: manifest,
        runId: 'run-42',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      const { run_id } = await client.runNow({ job_id: await resolver.resolve('donki'), job_parameters, idempotency_token: 'donki-run-42' });
      // The first task installs the job's wheel (pip), which takes seconds on a busy machine.
      const run = await waitFor(
        async () => {
          const r = await client.getRun(run_id);
          return isTerminalLifeCycleState(r.state?.life_cycle_state) ? r : undefined;
        },
        90_000,
        'the pipeline run to end',
      );
      expect(run.state?.result_state).toBe('SUCCESS');
      expect(runner.calls.map((c) => c.taskKey)).toEqual(['bronze', 'silver', 'gold']);
      for (const call of runner.calls) {
        expect(call.parameters).toMatchObject({
          source: 'donki',
          lake_root: join(dir, 'lake'),
          input_manifest: JSON.stringify(manifest),
          orbiter_run_id: 'run-42',
        });
        // The deployed notebook (workspace files of the deployment), with the job's wheel on PYTHONPATH.
        expect(call.notebookPath).toBe(
          join(dir, 'w', 'workspace', 'files', 'objects', `${deployed.rootPath.replace(/^\/Workspace/, '')}/files/${call.taskKey}.py`),
        );
        expect(call.env?.['PYTHONPATH']).toMatch(new RegExp(`^${join(repo, '.orbiter', 'databricks-libraries')}/[0-9a-f]+$`));
      }
      // A run started without parameters (schedule, UI) gets the bundle defaults, references resolved.
      const bare = await client.runNow({ job_id: await resolver.resolve('neows') });
      await waitFor(async () => isTerminalLifeCycleState((await client.getRun(bare.run_id)).state?.life_cycle_state));
      expect(runner.calls.at(-1)!.parameters).toMatchObject({
        source: 'neows',
        orbiter_run_id: `databricks-${bare.run_id}`,
        input_manifest: '{"files":[]}',
        lake_root: join(dir, 'lake'),
      });
    } finally {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
