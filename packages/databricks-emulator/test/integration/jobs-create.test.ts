import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabricksErrorResponse } from '../../src/api/errors';
import { FakeNotebookRunner } from '../fixtures/fakeRunner';
import { localJobs, type LocalJobs } from '../fixtures/localJobs';

const ECHO = '/Workspace/Users/someone/echo';

describe('jobs/create', () => {
  let dir: string;
  const open: LocalJobs[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dbx-create-'))));
  afterEach(async () => {
    for (const o of open.splice(0)) await o.engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const workspace = (): LocalJobs => {
    const w = localJobs(dir, { runner: new FakeNotebookRunner(1), persist: true });
    open.push(w);
    return w;
  };

  it('keeps the settings whole for jobs/get and across a restart', async () => {
    const first = workspace();
    const settings = {
      name: 'created',
      tasks: [{ task_key: 't', notebook_task: { notebook_path: ECHO }, libraries: [{ whl: '/Workspace/x.whl' }], job_cluster_key: 'c' }],
      job_clusters: [{ job_cluster_key: 'c', new_cluster: { spark_version: '16.4.x-scala2.12', num_workers: 1 } }],
      deployment: { kind: 'BUNDLE', metadata_file_path: '/Workspace/.bundle/x/state/metadata.json' },
      edit_mode: 'UI_LOCKED',
      continuous: {},
    };
    const { job_id } = first.jobs.create(settings);
    await first.engine.close();
    const second = workspace();
    const got = second.jobs.get({ job_id }) as { settings: Record<string, unknown> };
    expect(got.settings).toMatchObject({
      name: 'created',
      job_clusters: settings.job_clusters,
      deployment: settings.deployment,
      edit_mode: 'UI_LOCKED',
      // Databricks fills in pause_status.
      continuous: { pause_status: 'UNPAUSED' },
      tasks: [{ task_key: 't', libraries: [{ whl: '/Workspace/x.whl' }], job_cluster_key: 'c', notebook_task: { notebook_path: ECHO } }],
    });
  });

  it('refuses bad settings naming the field', () => {
    const { jobs } = workspace();
    expect(() => jobs.create({ name: 'x', tasks: [{ notebook_task: {} }] })).toThrow(DatabricksErrorResponse);
    expect(() =>
      jobs.create({ name: 'x', tasks: [{ task_key: 'a', notebook_task: { notebook_path: ECHO }, depends_on: [{ task_key: 'b' }] }] }),
    ).toThrow(/depends on b/);
    expect(() => jobs.create({ name: 'x', max_concurrent_runs: 'many' })).toThrow(/max_concurrent_runs/);
    expect(() =>
      jobs.create({ name: 'x', schedule: { quartz_cron_expression: '0 0 * * * ?', timezone_id: 'UTC', pause_status: 'SOMETIMES' } }),
    ).toThrow(/schedule\.pause_status/);
    expect(() =>
      jobs.create({ name: 'x', continuous: { pause_status: 'UNPAUSED' }, schedule: { quartz_cron_expression: '0 0 * * * ?', timezone_id: 'UTC' } }),
    ).toThrow(/at most one of schedule, continuous and trigger \(got schedule and continuous\)/);
  });
});
