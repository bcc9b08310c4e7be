import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatorWithBundle } from '../../src/localDeploy';
import type { DatabricksEmulator } from '../../src/emulator';
import { DatabricksJobsClient, PatTokenProvider, isTerminalLifeCycleState, type Run } from 'orbiter/shared/databricks/index';
import { FakeNotebookRunner, waitFor } from '../fixtures/fakeRunner';

jest.setTimeout(120_000);

const BUNDLE = join(__dirname, '..', 'fixtures', 'bundle', 'databricks.yml');

/** A GET with an explicit Host header (fetch does not let a caller set it). */
function get(url: string, host?: string): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('run pages: the run_page_url of a run answers a readable page', () => {
  let dir: string;
  let emulator: DatabricksEmulator;
  let client: DatabricksJobsClient;
  let jobId: number;
  let run: Run;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-page-'));
    // Like the real runners: each task's stdout/stderr in <workDir>/runs/<run>/<task run>-<task>.log.
    const runner = new FakeNotebookRunner(5, (req) => {
      mkdirSync(req.workDir, { recursive: true });
      writeFileSync(join(req.workDir, `${req.runId}-${req.taskKey}.log`), `log of ${req.taskKey} <i>not html</i>\n`);
    });
    const started = await startEmulatorWithBundle({ workDir: join(dir, 'work'), lakeRoot: join(dir, 'lake'), runner }, { bundlePath: BUNDLE });
    emulator = started.emulator;
    jobId = started.deployed.jobIdsByName['orbiter-neows-pipeline']!;
    client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(emulator.token) });
    const { run_id } = await client.runNow({ job_id: jobId, job_parameters: { orbiter_run_id: 'run-<script>alert(1)</script>' } });
    run = await waitFor(
      async () => {
        const r = await client.getRun(run_id);
        return isTerminalLifeCycleState(r.state?.life_cycle_state) ? r : undefined;
      },
      15_000,
      `run ${run_id} to terminate`,
    );
  });

  afterAll(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the run with its tasks, states, durations and log links, escaped, without the API token', async () => {
    expect(run.run_page_url).toBe(`${emulator.url}/?o=0#job/${jobId}/run/${run.run_id}`);
    const page = await get(`${emulator.url}/jobs/${jobId}/runs/${run.run_id}`);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    for (const t of run.tasks ?? []) {
      expect(page.body).toContain(`<td>${t.task_key}</td>`);
      expect(page.body).toContain(`href="/jobs/${jobId}/runs/${run.run_id}/tasks/${t.task_key}/log"`);
    }
    expect(page.body).toMatch(/class="SUCCESS">SUCCESS</);
    expect(page.body).toMatch(/<td>\d+ s<\/td>/);
    // The job parameter is shown, escaped: no markup of a caller's making reaches the page.
    expect(page.body).toContain('run-&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toContain('<script>alert(1)');

    const silver = run.tasks!.find((t) => t.task_key === 'silver')!;
    const log = await get(`${emulator.url}/jobs/${jobId}/runs/${run.run_id}/tasks/silver/log`);
    expect([log.status, log.type, log.body]).toEqual([200, 'text/plain; charset=utf-8', 'log of silver <i>not html</i>\n']);
    // The same log through the Jobs API, which Orbiter reads on Azure Databricks too.
    expect((await client.getRunOutput(silver.run_id)).logs).toBe('log of silver <i>not html</i>\n');
  });

  it('the run list follows a classic #job/<job>/run/<run> link; unknown runs are 404; other Host names are refused', async () => {
    const index = await get(`${emulator.url}/?o=0`);
    expect(index.status).toBe(200);
    expect(index.body).toContain(`href="/jobs/${jobId}/runs/${run.run_id}"`);
    expect(index.body).toContain("location.replace('/jobs/'+m[1]+'/runs/'+m[2])");
    expect((await get(`${emulator.url}/jobs/${jobId + 1000}/runs/${run.run_id}`)).status).toBe(404);
    expect((await get(`${emulator.url}/jobs/${jobId}/runs/${run.run_id}/tasks/platinum/log`)).status).toBe(404);
    const port = new URL(emulator.url).port;
    expect((await get(`${emulator.url}/jobs/${jobId}/runs/${run.run_id}`, `evil.example:${port}`)).status).toBe(421);
    expect((await get(`${emulator.url}/jobs/${jobId}/runs/${run.run_id}`, `localhost:${port}`)).status).toBe(200);
    // The API itself still wants its token.
    expect((await get(`${emulator.url}/api/2.2/jobs/runs/get?run_id=${run.run_id}`)).status).toBe(401);
  });
});
