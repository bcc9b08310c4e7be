import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import axios, { type AxiosInstance } from 'axios';
import { DatabricksJobsClient, PatTokenProvider, isTerminalLifeCycleState, type Run } from 'orbiter/shared/databricks/index';
import { ClusterNotebookRunner } from '../../src/clusters/clusterRunner';
import { startDatabricksEmulator, type DatabricksEmulator } from '../../src/emulator';
import { PythonNotebookRunner } from '../../src/notebookRunner';
import { waitFor } from '../fixtures/fakeRunner';

const execFileAsync = promisify(execFile);

// Job clusters on the real runner: one long-lived Spark driver JVM serves the clusters, each task a Python process
// of its own attached to it. Needs .venv and .orbiter/jars (scripts/setup-python.sh).
jest.setTimeout(300_000);

const REPO = join(__dirname, '..', '..', '..', '..');
const PROBE = readFileSync(join(__dirname, '..', 'fixtures', 'clusters', 'probe.py'), 'utf8');
const ROOT = '/Workspace/Users/local-emulator@orbiter.local/clusters';

interface Probe {
  app: string;
  /** The notebook's Python process. */
  pid: number;
  /** The driver's JVM. */
  jvm: number;
  seen: { view: boolean; global: boolean; conf: string; env: string };
  listeners: string[];
}
interface RunTask {
  task_key: string;
  state?: { result_state?: string };
  run_id: number;
  setup_duration?: number;
  cluster_instance?: { cluster_id: string; spark_context_id?: string };
}
interface Cluster {
  cluster_id: string;
  state: string;
  spark_context_id?: number;
  termination_reason?: { code: string };
  cluster_source: string;
}

class Workspace {
  readonly api: AxiosInstance;
  readonly client: DatabricksJobsClient;
  constructor(readonly emulator: DatabricksEmulator) {
    this.api = axios.create({ baseURL: emulator.url, headers: { Authorization: `Bearer ${emulator.token}` } });
    this.client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(emulator.token) });
  }
  async deployProbe(): Promise<void> {
    await this.api.post('/api/2.0/workspace/mkdirs', { path: ROOT });
    await this.api.post(`/api/2.0/workspace-files/import-file/${encodeURIComponent(`${ROOT.slice(1)}/probe.py`)}`, PROBE, {
      params: { overwrite: true },
      headers: { 'Content-Type': 'application/octet-stream' },
    });
  }
  /** A job whose tasks (one per mode, in order) all run on job cluster `main`. */
  async job(name: string, modes: string[]): Promise<number> {
    const tasks = modes.map((mode, i) => ({
      task_key: `t${i}_${mode}`,
      job_cluster_key: 'main',
      notebook_task: { notebook_path: `${ROOT}/probe`, base_parameters: { mode } },
      ...(i > 0 ? { depends_on: [{ task_key: `t${i - 1}_${modes[i - 1]}` }] } : {}),
    }));
    const body = { name, job_clusters: [{ job_cluster_key: 'main', new_cluster: { spark_version: '17.3.x-scala2.13', num_workers: 1 } }], tasks };
    return (await this.api.post<{ job_id: number }>('/api/2.2/jobs/create', body)).data.job_id;
  }
  async run(jobId: number): Promise<Run & { tasks: RunTask[]; cluster_instance?: { cluster_id: string } }> {
    const { run_id } = await this.client.runNow({ job_id: jobId });
    // Raw runs/get: the typed client keeps only the fields the app uses (no cluster_instance).
    return waitFor(
      async () => {
        const run = (await this.api.get<Run & { tasks: RunTask[] }>('/api/2.2/jobs/runs/get', { params: { run_id } })).data;
        return isTerminalLifeCycleState(run.state?.life_cycle_state) ? run : undefined;
      },
      240_000,
      `run ${run_id}`,
    );
  }
  async output(taskRunId: number): Promise<{ probe?: Probe; error?: string }> {
    const out = await this.client.getRunOutput(taskRunId);
    const result = out.notebook_output?.result;
    return { ...(result ? { probe: JSON.parse(result) as Probe } : {}), ...(out.error ? { error: out.error } : {}) };
  }
  async cluster(id: string): Promise<Cluster> {
    return (await this.api.get<Cluster>('/api/2.1/clusters/get', { params: { cluster_id: id } })).data;
  }
}

describe('job clusters (tasks attached to one Spark driver)', () => {
  let dir: string;
  let ws: Workspace;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-clusters-'));
    ws = new Workspace(
      await startDatabricksEmulator({ workDir: join(dir, 'work'), lakeRoot: join(dir, 'lake'), repoRoot: REPO, maxParallelTasks: 1 }),
    );
    await ws.deployProbe();
  });
  afterAll(async () => {
    await ws?.emulator.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves every task of the run from one driver, leaks nothing between tasks, binds loopback only, ends with the run', async () => {
    const run = await ws.run(await ws.job('shared', ['ok', 'ports']));
    expect(run.state?.result_state).toBe('SUCCESS');
    const [first, second] = run.tasks;
    const a = (await ws.output(first!.run_id)).probe!;
    const b = (await ws.output(second!.run_id)).probe!;
    // One driver JVM and Spark context for both tasks, each task a Python process of its own; runs/get names the
    // cluster and context.
    expect(b.jvm).toBe(a.jvm);
    expect(b.app).toBe(a.app);
    expect(b.pid).not.toBe(a.pid);
    expect(first!.cluster_instance).toEqual(second!.cluster_instance);
    expect(first!.cluster_instance?.spark_context_id).toBe(a.app.replace(/\D/g, ''));
    expect(run.cluster_instance?.cluster_id).toBe(first!.cluster_instance?.cluster_id);
    expect(first!.setup_duration).toBeGreaterThan(0);
    expect(second!.setup_duration).toBe(0);
    // Nothing of the first task is visible to the second.
    expect(b.seen).toEqual({ view: false, global: false, conf: 'unset', env: 'unset' });
    // The driver's and the JVM's listening sockets are all on 127.0.0.1.
    expect(b.listeners.length).toBeGreaterThan(0);
    // (the JVM reports IPv4 loopback in its IPv4-mapped IPv6 form)
    for (const address of b.listeners) expect(address).toMatch(/^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):\d+$/);
    // The task's prints are in its log.
    const log = readFileSync(join(dir, 'work', 'runs', String(run.run_id), `${second!.run_id}-${second!.task_key}.log`), 'utf8');
    expect(log).toContain('probe ports ran');
    // The job cluster ends with its run.
    const id = first!.cluster_instance!.cluster_id;
    const cluster = await waitFor(
      async () => {
        const c = await ws.cluster(id);
        return c.state === 'TERMINATED' ? c : undefined;
      },
      30_000,
      `cluster ${id} terminated`,
    );
    expect(cluster).toMatchObject({ cluster_source: 'JOB', termination_reason: { code: 'JOB_FINISHED' } });
    const listed = (await ws.api.get<{ clusters: Cluster[] }>('/api/2.1/clusters/list')).data.clusters;
    expect(listed.map((c) => c.cluster_id)).toContain(id);
    // Its driver JVM goes away with the last live cluster (Spark stops politely first).
    await waitFor(
      () => {
        try {
          process.kill(a.jvm, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      30_000,
      `driver JVM ${a.jvm} gone`,
    );
  });

  it('a task that kills its process fails with the reason in runs/get-output, and the run ends', async () => {
    const run = await ws.run(await ws.job('crash', ['crash', 'ok']));
    expect(run.state?.result_state).toBe('FAILED');
    expect(run.tasks.map((t) => t.state?.result_state)).toEqual(['FAILED', 'UPSTREAM_FAILED']);
    expect((await ws.output(run.tasks[0]!.run_id)).error).toMatch(/notebook process exited with code 9/);
  });

  it('rejects a task naming a job cluster the job does not define', async () => {
    const res = await ws.api.post(
      '/api/2.2/jobs/create',
      { name: 'bad', tasks: [{ task_key: 'x', job_cluster_key: 'nope', notebook_task: { notebook_path: `${ROOT}/probe` } }] },
      { validateStatus: () => true },
    );
    expect(res.status).toBe(400);
    expect(res.data).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });
});

describe('warm clusters (kept across runs)', () => {
  let dir: string;
  let ws: Workspace;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-warm-'));
    ws = new Workspace(
      await startDatabricksEmulator({
        workDir: join(dir, 'work'),
        lakeRoot: join(dir, 'lake'),
        repoRoot: REPO,
        maxParallelTasks: 1,
        warmClusterMinutes: 5,
      }),
    );
    await ws.deployProbe();
  });
  afterAll(async () => {
    await ws?.emulator.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reuses the driver across runs, survives raising, out-of-memory and crashing tasks, and replaces a dead JVM', async () => {
    const ok = await ws.job('ok', ['ok']);
    const first = await ws.run(ok);
    expect(first.state?.result_state).toBe('SUCCESS');
    const cluster = first.tasks[0]!.cluster_instance!;
    const jvm = (await ws.output(first.tasks[0]!.run_id)).probe!.jvm;
    expect((await ws.cluster(cluster.cluster_id)).state).toBe('RUNNING');

    const raised = await ws.run(await ws.job('raise', ['raise']));
    expect((await ws.output(raised.tasks[0]!.run_id)).error).toContain('ValueError: boom from the notebook');
    const oom = await ws.run(await ws.job('oom', ['oom']));
    expect((await ws.output(oom.tasks[0]!.run_id)).error).toContain('MemoryError');

    const again = await ws.run(ok);
    const probe = (await ws.output(again.tasks[0]!.run_id)).probe!;
    expect(again.tasks[0]!.cluster_instance).toEqual(cluster);
    expect(probe.jvm).toBe(jvm);
    expect(again.tasks[0]!.setup_duration).toBe(0);
    expect(probe.seen).toEqual({ view: false, global: false, conf: 'unset', env: 'unset' });

    // A notebook that kills its own process takes only itself down: the driver keeps its Spark context.
    const crashed = await ws.run(await ws.job('crash', ['crash']));
    expect((await ws.output(crashed.tasks[0]!.run_id)).error).toMatch(/exited with code 9/);
    const survived = await ws.run(ok);
    expect(survived.tasks[0]!.cluster_instance).toEqual(cluster);
    expect((await ws.output(survived.tasks[0]!.run_id)).probe!.jvm).toBe(jvm);

    // A notebook that kills the driver's JVM fails, and the next task gets a new driver.
    const killed = await ws.run(await ws.job('killjvm', ['killjvm']));
    expect(killed.state?.result_state).toBe('FAILED');
    expect((await ws.output(killed.tasks[0]!.run_id)).error).toMatch(/the next task gets a new driver/);
    const after = await ws.run(ok);
    expect(after.state?.result_state).toBe('SUCCESS');
    expect(after.tasks[0]!.cluster_instance?.cluster_id).toBe(cluster.cluster_id);
    expect(after.tasks[0]!.cluster_instance?.spark_context_id).not.toBe(cluster.spark_context_id);
    expect((await ws.output(after.tasks[0]!.run_id)).probe!.jvm).not.toBe(jvm);
  });

  it('frees what a finished task left in the driver, whether it exited or was killed', async () => {
    // Each task holds 60 DataFrames when it ends; one is killed holding them. Their JVM side (Dataset, plans) must
    // not outlive the task: a warm driver serves runs for hours.
    const run = await ws.run(await ws.job('frames', ['frames', 'frames', 'framescrash']));
    expect(run.tasks.map((t) => t.state?.result_state)).toEqual(['SUCCESS', 'SUCCESS', 'FAILED']);
    const jvm = (await ws.output(run.tasks[0]!.run_id)).probe!.jvm;
    // A live-object histogram (it runs a full GC first): fewer Datasets than one task alone held, and no task's
    // SparkSession left (the driver's own and its default one; PySpark 4.0.1 kept every session, SPARK-54753).
    const live = async (): Promise<{ datasets: number; sessions: number }> => {
      const { stdout } = await execFileAsync('jcmd', [String(jvm), 'GC.class_histogram'], { maxBuffer: 64 * 1024 * 1024 });
      const count = (cls: string): number => {
        const line = stdout.split('\n').find((l) => l.trim().endsWith(` ${cls}`));
        return line ? Number(line.trim().split(/\s+/)[1]) : 0;
      };
      return { datasets: count('org.apache.spark.sql.classic.Dataset'), sessions: count('org.apache.spark.sql.classic.SparkSession') };
    };
    // The task's gateway is closed as it ends; the driver may take a moment to get to it.
    await waitFor(
      async () => {
        const { datasets, sessions } = await live();
        return datasets < 60 && sessions <= 2 ? true : undefined;
      },
      60_000,
      "the finished tasks' Datasets and SparkSessions to be freed",
    );
  });
});

describe('a ready driver (readyDriver: started with the emulator, like an instance pool idle instance)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-ready-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const start = (name: string, runner: ClusterNotebookRunner) =>
    startDatabricksEmulator({
      workDir: join(dir, name),
      lakeRoot: join(dir, name, 'lake'),
      repoRoot: REPO,
      runner,
      readyDriver: true,
      warmClusterMinutes: 5,
      maxParallelTasks: 1,
    });
  const runnerFor = (name: string) =>
    new ClusterNotebookRunner({ repoRoot: REPO, logDir: join(dir, name, 'clusters'), perTask: new PythonNotebookRunner({ repoRoot: REPO }) });

  it('starts before any task asks for it, and stops with the emulator though no cluster ever ran', async () => {
    const runner = runnerFor('idle');
    const emulator = await start('idle', runner);
    // The emulator began the start on its own: its log appears with no task run and no call from here.
    await waitFor(() => existsSync(join(dir, 'idle', 'clusters', 'driver-1.log')) || undefined, 30_000, 'the driver started');
    const pid = await runner.prepare(); // waits for that same start
    expect(pid).toEqual(expect.any(Number));
    expect(alive(pid!)).toBe(true);
    await emulator.close();
    expect(alive(pid!)).toBe(false);
    expect(existsSync(join(dir, 'idle', 'clusters', 'driver-2.log'))).toBe(false); // one start, not one per caller
  });

  it('serves the first cluster task with no setup wait', async () => {
    const runner = runnerFor('used');
    const ws = new Workspace(await start('used', runner));
    try {
      await ws.deployProbe();
      await runner.prepare();
      const run = await ws.run(await ws.job('first', ['ok']));
      expect(run.state?.result_state).toBe('SUCCESS');
      expect(run.tasks[0]!.setup_duration).toBe(0);
    } finally {
      await ws.emulator.close();
    }
  });
});
