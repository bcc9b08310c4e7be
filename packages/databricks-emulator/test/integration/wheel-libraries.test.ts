import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import axios, { type AxiosInstance } from 'axios';
import { DatabricksJobsClient, PatTokenProvider, isTerminalLifeCycleState, type Run } from 'orbiter/shared/databricks/index';
import { startDatabricksEmulator, type DatabricksEmulator } from '../../src/emulator';
import type { NotebookRunner, NotebookRunRequest, NotebookRunResult } from '../../src/notebookRunner';
import { waitFor } from '../fixtures/fakeRunner';

// A job's wheel reaches the notebook's Python through PYTHONPATH only: a module left out of the wheel, or a
// requirement the environment does not meet, fails the run as on Databricks. Needs .venv (scripts/setup-python.sh).
jest.setTimeout(180_000);

const REPO = join(__dirname, '..', '..', '..', '..');
const PYTHON = join(REPO, '.venv', 'bin', 'python');
const exec = promisify(execFile);

/** Imports the module named by the notebook's `module` widget in the run's environment (no Spark needed). */
class ImportRunner implements NotebookRunner {
  async run(req: NotebookRunRequest): Promise<NotebookRunResult> {
    // The deployed notebook is what runs: it must be the workspace copy.
    expect(readFileSync(req.notebookPath, 'utf8')).toContain('# Databricks notebook source');
    try {
      const { stdout } = await exec(PYTHON, ['-c', `import ${req.parameters['module']} as m; print(m.VALUE)`], {
        env: { ...process.env, ...req.env },
      });
      return { result_state: 'SUCCESS', notebook_output: stdout.trim(), error: null, error_trace: null };
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      return { result_state: 'FAILED', notebook_output: null, error: stderr.trim().split('\n').pop() ?? 'failed', error_trace: stderr };
    }
  }
}

/** A pure-Python wheel with the given files and Requires-Dist lines, written with zipfile. */
function wheel(dir: string, name: string, files: Record<string, string>, requires: string[] = []): string {
  const path = join(dir, `${name}-0.1.0-py3-none-any.whl`);
  const script = `
import json, sys, zipfile
path, name, files, requires = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
info = f"{name}-0.1.0.dist-info"
meta = "Metadata-Version: 2.1\\nName: " + name + "\\nVersion: 0.1.0\\n" + "".join(f"Requires-Dist: {r}\\n" for r in requires)
entries = dict(files)
entries[f"{info}/METADATA"] = meta
entries[f"{info}/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
entries[f"{info}/RECORD"] = "".join(f"{p},,\\n" for p in entries) + f"{info}/RECORD,,\\n"
with zipfile.ZipFile(path, "w") as z:
    for p, text in entries.items():
        z.writestr(p, text)
`;
  execFileSync(PYTHON, ['-c', script, path, name, JSON.stringify(files), JSON.stringify(requires)]);
  return path;
}

describe('job wheels in the local workspace', () => {
  let dir: string;
  let emulator: DatabricksEmulator;
  let api: AxiosInstance;
  let client: DatabricksJobsClient;
  const root = '/Workspace/Users/local-emulator@orbiter.local/.bundle/wheels/local';

  const upload = async (path: string, content: Buffer | string): Promise<void> => {
    await api.post('/api/2.0/workspace/mkdirs', { path: path.slice(0, path.lastIndexOf('/')) });
    await api.post(`/api/2.0/workspace-files/import-file/${encodeURIComponent(path.slice(1))}`, content, {
      params: { overwrite: true },
      headers: { 'Content-Type': 'application/octet-stream' },
    });
  };
  const runWith = async (whl: string, module: string): Promise<Run> => {
    const { job_id } = (
      await api.post<{ job_id: number }>('/api/2.2/jobs/create', {
        name: `wheel-${module}-${whl.split('/').pop()}`,
        parameters: [{ name: 'module', default: module }],
        tasks: [{ task_key: 'only', notebook_task: { notebook_path: `${root}/files/nb` }, libraries: [{ whl }] }],
      })
    ).data;
    const { run_id } = await client.runNow({ job_id });
    return waitFor(
      async () => {
        const run = await client.getRun(run_id);
        return isTerminalLifeCycleState(run.state?.life_cycle_state) ? run : undefined;
      },
      120_000,
      `run ${run_id}`,
    );
  };
  const taskError = async (run: Run): Promise<string | undefined> => (await client.getRunOutput(run.tasks![0]!.run_id)).error;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-wheels-'));
    emulator = await startDatabricksEmulator({ workDir: join(dir, 'work'), lakeRoot: join(dir, 'lake'), runner: new ImportRunner(), repoRoot: REPO });
    api = axios.create({ baseURL: emulator.url, headers: { Authorization: `Bearer ${emulator.token}` } });
    client = new DatabricksJobsClient({ host: emulator.url, tokenProvider: new PatTokenProvider(emulator.token) });
    await upload(`${root}/files/nb.py`, '# Databricks notebook source\nprint("hi")\n');
    const good = wheel(dir, 'goodlib', { 'goodlib/__init__.py': '', 'goodlib/core.py': 'VALUE = "from the wheel"\n' }, ['numpy>=1'] /* in .venv */);
    const partial = wheel(dir, 'partiallib', { 'partiallib/__init__.py': '' } /* core.py left out */);
    const needy = wheel(dir, 'needylib', { 'needylib/__init__.py': 'VALUE = 1\n' }, ['surely-not-installed-pkg>=1']);
    for (const w of [good, partial, needy]) await upload(`${root}/artifacts/.internal/${w.split('/').pop()}`, readFileSync(w));
  });
  afterAll(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs the wheel for the run: the notebook imports the package from it', async () => {
    const run = await runWith(`${root}/artifacts/.internal/goodlib-0.1.0-py3-none-any.whl`, 'goodlib.core');
    expect(run.state?.result_state).toBe('SUCCESS');
    expect((await client.getRunOutput(run.tasks![0]!.run_id)).notebook_output?.result).toBe('from the wheel');
  });

  it('fails the run when the wheel lacks a module the notebook imports (a packaging mistake)', async () => {
    const run = await runWith(`${root}/artifacts/.internal/partiallib-0.1.0-py3-none-any.whl`, 'partiallib.core');
    expect(run.state?.result_state).toBe('FAILED');
    expect(await taskError(run)).toMatch(/ModuleNotFoundError: No module named 'partiallib.core'/);
  });

  it('fails the run with a library installation error when a requirement is not met, or the wheel is missing', async () => {
    const needy = await runWith(`${root}/artifacts/.internal/needylib-0.1.0-py3-none-any.whl`, 'needylib');
    expect(needy.state?.result_state).toBe('FAILED');
    expect(await taskError(needy)).toMatch(/Library installation failed .*surely-not-installed-pkg>=1 \(not installed\)/);
    const missing = await runWith(`${root}/artifacts/.internal/nope-0.1.0-py3-none-any.whl`, 'goodlib.core');
    expect(await taskError(missing)).toMatch(/Library installation failed: .*nope-0.1.0-py3-none-any.whl does not exist/);
  });
});
