import { delimiter } from 'node:path';
import type { NotebookRunner, NotebookRunRequest, NotebookRunResult } from './notebookRunner';
import { LibraryInstallError, type WheelInstaller } from './wheelInstaller';
import type { WorkspaceStore } from './workspaceStore';

/**
 * Runs a deployed job's notebook task: resolves notebook_path in the local workspace (the files `bundle deploy`
 * uploaded), installs the task's wheels, and hands the local file and PYTHONPATH to the notebook runner.
 */
export class WorkspaceNotebookRunner implements NotebookRunner {
  constructor(
    private readonly inner: NotebookRunner,
    private readonly workspace: WorkspaceStore,
    private readonly wheels: WheelInstaller,
  ) {}

  releaseCluster(clusterId: string): Promise<void> {
    return this.inner.releaseCluster?.(clusterId) ?? Promise.resolve();
  }

  prepare(): Promise<unknown> {
    return this.inner.prepare?.() ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  async run(req: NotebookRunRequest): Promise<NotebookRunResult> {
    const found = req.notebookPath.startsWith('/') ? this.workspace.find(req.notebookPath) : undefined;
    const local = found?.object_type === 'NOTEBOOK' ? this.workspace.localPath(req.notebookPath) : undefined;
    if (!local) {
      return failed(
        `Unable to access the notebook "${req.notebookPath}" in the workspace: it does not exist${found ? ' as a notebook' : ''}. ` +
          'Deploy the bundle (databricks bundle deploy) or import the notebook first.',
      );
    }
    let pythonPath: string[];
    try {
      pythonPath = await this.wheels.install(req.libraries ?? []);
    } catch (err) {
      if (err instanceof LibraryInstallError) return failed(err.message);
      throw err;
    }
    const inherited = req.env?.['PYTHONPATH'];
    return this.inner.run({
      ...req,
      notebookPath: local,
      env: { ...req.env, ...(pythonPath.length > 0 ? { PYTHONPATH: [...pythonPath, ...(inherited ? [inherited] : [])].join(delimiter) } : {}) },
    });
  }
}

const failed = (error: string): NotebookRunResult => ({ result_state: 'FAILED', notebook_output: null, error, error_trace: null });
