import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobIdFor } from '../../src/bundle';
import { startDatabricksEmulator, type DatabricksEmulator, LOCAL_TOKEN } from '../../src/emulator';
import { DatabricksJobsClient, PatTokenProvider, isTerminalLifeCycleState, type Run } from 'orbiter/shared/databricks/index';
import { waitFor } from '../fixtures/fakeRunner';

// Needs the project's Python env (scripts/setup-python.sh → .venv) and runner/run_notebook.py.
jest.setTimeout(180_000);

const REPO = join(__dirname, '..', '..', '..', '..');
const ECHO = jobIdFor('orbiter-echo');

/** Process groups of live processes, from ps (pgid → command lines). */
function processGroups(): Map<number, string[]> {
  const out = execFileSync('ps', ['-eo', 'pgid=,args='], { encoding: 'utf8' });
  const groups = new Map<number, string[]>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) groups.set(Number(m[1]), [...(groups.get(Number(m[1])) ?? []), m[2]!]);
  }
  return groups;
}

describe('emulator with the real notebook runner (PySpark)', () => {
  let dir: string;
  let emulator: DatabricksEmulator;
  let client: DatabricksJobsClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-real-runner-'));
    emulator = await startDatabricksEmulator({
      bundlePath: join(REPO, 'packages', 'databricks-emulator', 'test', 'fixtures', 'bundle', 'databricks.yml'),
      workDir: join(dir, 'work'),
      lakeRoot: join(dir, 'lake'),
      repoRoot: REPO,
      maxParallelTasks: 1,
    });
    client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(LOCAL_TOKEN) });
  });
  afterAll(async () => {
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const settle = (runId: number): Promise<Run> =>
    waitFor(
      async () => {
        const run = await client.getRun(runId);
        return isTerminalLifeCycleState(run.state?.life_cycle_state) ? run : undefined;
      },
      150_000,
      `run ${runId}`,
    );

  it('feeds widgets from job parameters, returns dbutils.notebook.exit as output, tracebacks on failure', async () => {
    const ok = await client.runNow({ job_id: ECHO, job_parameters: { message: 'from the emulator' } });
    const bad = await client.runNow({ job_id: ECHO, job_parameters: { message: 'fail' } });
    const [okRun, badRun] = [await settle(ok.run_id), await settle(bad.run_id)];
    expect(okRun.state?.result_state).toBe('SUCCESS');
    expect((await client.getRunOutput(ok.run_id)).notebook_output?.result).toBe('echo:from the emulator');
    expect(badRun.state?.result_state).toBe('FAILED');
    expect(badRun.status?.termination_details?.type).toBe('CLIENT_ERROR');
    const out = await client.getRunOutput(bad.run_id);
    expect(out.error).toMatch(/asked to fail/);
    expect(out.error_trace).toMatch(/ValueError/);
  });

  it('cancel kills the runner and the Spark JVM it started', async () => {
    const { run_id } = await client.runNow({ job_id: ECHO, job_parameters: { message: 'sleep' } });
    const taskRunId = (await client.getRun(run_id)).tasks![0]!.run_id;
    const marker = `${taskRunId}-only.result.json`;
    // The python process's group (it is spawned detached, so it leads its own group) once the JVM has joined it.
    const pgid = await waitFor(
      () => {
        for (const [group, cmds] of processGroups()) if (cmds.some((c) => c.includes(marker)) && cmds.some((c) => /java/.test(c))) return group;
        return undefined;
      },
      120_000,
      'runner and JVM to start',
    );
    await client.cancelRun(run_id);
    const run = await settle(run_id);
    expect(run.state?.result_state).toBe('CANCELED');
    await waitFor(() => !processGroups().has(pgid), 30_000, 'runner process group to exit');
  });
});
