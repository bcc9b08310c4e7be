import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../src/api/errors';
import { JobsEngine } from '../../src/engine';
import { FakeNotebookRunner } from '../fixtures/fakeRunner';

const ECHO = join(__dirname, '..', 'fixtures', 'bundle', 'notebooks', 'echo.py');

describe('jobs/create', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dbx-create-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const engine = (): JobsEngine =>
    new JobsEngine({
      jobs: [],
      runner: new FakeNotebookRunner(1),
      lakeRoot: join(dir, 'lake'),
      workDir: join(dir, 'work'),
      baseUrl: () => '',
      persist: true,
    });

  it('keeps the settings whole for jobs/get and across a restart', async () => {
    const first = engine();
    const settings = {
      name: 'created',
      tasks: [{ task_key: 't', notebook_task: { notebook_path: ECHO }, libraries: [{ whl: '/Workspace/x.whl' }], job_cluster_key: 'c' }],
      job_clusters: [{ job_cluster_key: 'c', new_cluster: { spark_version: '16.4.x-scala2.12', num_workers: 1 } }],
      deployment: { kind: 'BUNDLE', metadata_file_path: '/Workspace/.bundle/x/state/metadata.json' },
      edit_mode: 'UI_LOCKED',
      continuous: { pause_status: 'PAUSED' },
    };
    const { job_id } = first.jobsCreate.create(settings);
    await first.close();
    const second = engine();
    const got = second.jobs.get({ job_id }) as { settings: Record<string, unknown> };
    expect(got.settings).toMatchObject({
      name: 'created',
      job_clusters: settings.job_clusters,
      deployment: settings.deployment,
      edit_mode: 'UI_LOCKED',
      continuous: { pause_status: 'PAUSED' },
      tasks: [{ task_key: 't', libraries: [{ whl: '/Workspace/x.whl' }], job_cluster_key: 'c', notebook_task: { notebook_path: ECHO } }],
    });
    await second.close();
  });

  it('refuses bad settings naming the field', async () => {
    const e = engine();
    const create = (body: Record<string, unknown>): unknown => e.jobsCreate.create(body);
    expect(() => create({ name: 'x', tasks: [{ notebook_task: {} }] })).toThrow(ApiError);
    expect(() => create({ name: 'x', tasks: [{ task_key: 'a', notebook_task: { notebook_path: ECHO }, depends_on: [{ task_key: 'b' }] }] })).toThrow(
      /depends on b/,
    );
    expect(() => create({ name: 'x', max_concurrent_runs: 'many' })).toThrow(/max_concurrent_runs/);
    await e.close();
  });
});
