import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobIdFor } from '../../src/bundle';
import { startDatabricksEmulator, type DatabricksEmulator, LOCAL_TOKEN } from '../../src/emulator';
import { PythonNotebookRunner } from '../../src/notebookRunner';
import { DatabricksJobsClient, PatTokenProvider, isTerminalLifeCycleState, type Run } from 'orbiter/shared/databricks/index';
import { waitFor } from '../fixtures/fakeRunner';

jest.setTimeout(60_000);

const FIXTURES = join(__dirname, '..', 'fixtures');
const ECHO = jobIdFor('orbiter-echo');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('PythonNotebookRunner (process contract, with a node stand-in for run_notebook.py)', () => {
  let dir: string;
  let emulator: DatabricksEmulator;
  let client: DatabricksJobsClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-runner-'));
    const runner = new PythonNotebookRunner({
      repoRoot: join(__dirname, '..', '..', '..', '..'),
      python: process.execPath,
      script: join(FIXTURES, 'fake_run_notebook.js'),
      killGraceMs: 500,
    });
    emulator = await startDatabricksEmulator({
      bundlePath: join(FIXTURES, 'bundle', 'databricks.yml'),
      workDir: join(dir, 'work'),
      lakeRoot: join(dir, 'lake'),
      runner,
    });
    client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(LOCAL_TOKEN) });
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const settle = (runId: number): Promise<Run> =>
    waitFor(
      async () => {
        const run = await client.getRun(runId);
        return isTerminalLifeCycleState(run.state?.life_cycle_state) ? run : undefined;
      },
      20_000,
      `run ${runId}`,
    );

  it('passes widgets as --params and reads the result file (success and failure)', async () => {
    const ok = await settle((await client.runNow({ job_id: ECHO, job_parameters: { message: 'hi there' } })).run_id);
    expect(ok.state?.result_state).toBe('SUCCESS');
    expect((await client.getRunOutput(ok.run_id)).notebook_output?.result).toBe('echo:hi there');
    const logs = readdirSync(join(dir, 'work', 'runs', String(ok.run_id))).filter((f) => f.endsWith('.log'));
    expect(readFileSync(join(dir, 'work', 'runs', String(ok.run_id), logs[0]!), 'utf8')).toContain('"message":"hi there"');

    const failed = await settle((await client.runNow({ job_id: ECHO, job_parameters: { message: 'fail' } })).run_id);
    expect(failed.state?.result_state).toBe('FAILED');
    const out = await client.getRunOutput(failed.run_id);
    expect(out.error).toBe('ValueError: asked to fail');
    expect(out.error_trace).toMatch(/Traceback/);
  });

  it('reports a runner that exits without a result as INTERNAL_ERROR', async () => {
    const run = await settle((await client.runNow({ job_id: ECHO, job_parameters: { message: 'noresult' } })).run_id);
    expect(run.state?.life_cycle_state).toBe('INTERNAL_ERROR');
    expect((await client.getRunOutput(run.run_id)).error).toMatch(/exited with code 3 without writing/);
  });

  it('kills the runner and its children on cancel', async () => {
    const { run_id } = await client.runNow({ job_id: ECHO, job_parameters: { message: 'sleep' } });
    const taskRunId = (await client.getRun(run_id)).tasks![0]!.run_id;
    const pidFile = join(dir, 'work', 'runs', String(run_id), `${taskRunId}-only.result.json.pids`);
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0, 10_000, 'the runner to start');
    const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as number[];
    expect(pids.every(alive)).toBe(true);
    await client.cancelRun(run_id);
    const run = await settle(run_id);
    expect(run.state?.result_state).toBe('CANCELED');
    await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'runner processes to exit');
  });
});
