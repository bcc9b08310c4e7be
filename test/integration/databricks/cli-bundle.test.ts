import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { startDatabricksEmulator, type DatabricksEmulator } from '@orbiter/databricks-emulator/emulator';
import { deployBundle, localForce, runCli, setupDatabricksCli, type CliResult, type DatabricksCli } from '@orbiter/local-stack/bundleDeploy';

/**
 * Conformance of the local workspace with Databricks' own CLI (v1.10.0, built by scripts/setup-databricks-cli.sh):
 * `bundle validate` of every target of the real bundle, `bundle deploy -t local` (first and unchanged second),
 * `bundle summary`, `jobs list/get`, the insights dashboard (Lakeview create/publish/permissions), and on the fixtures bundle `bundle run` (real notebook runner) and `bundle destroy`.
 */

jest.setTimeout(900_000);

const REPO = join(__dirname, '..', '..', '..');
const BUNDLE_ROOT = join(REPO, 'notebooks');
const FIXTURE_ROOT = join(REPO, 'packages', 'databricks-emulator', 'test', 'fixtures', 'bundle');
// Required variables have no defaults on purpose; placeholders resolve the configuration. deployers_group: a group
// the local identity belongs to, as the prod deployer belongs to the real one.
const PLACEHOLDERS = [
  '--var=lake_root=abfss://{zone}@stlakeci.dfs.core.windows.net',
  '--var=completion_webhook_id=00000000-0000-0000-0000-000000000000',
  '--var=orbiter_service_principal=11111111-1111-1111-1111-111111111111',
  '--var=warehouse_id=0123456789abcdef',
];
const EXPECTED_JOBS = [
  'orbiter-apod-pipeline',
  'orbiter-cmr-pipeline',
  'orbiter-donki-pipeline',
  'orbiter-eonet-pipeline',
  'orbiter-epic-pipeline',
  'orbiter-fireball-pipeline',
  'orbiter-meteorites-pipeline',
  'orbiter-neows-pipeline',
  'orbiter-run-metrics-stream',
  'orbiter-table-maintenance',
  'orbiter-visual-insights',
];

const output = (r: CliResult): string => `${r.stdout}${r.stderr}`;

describe('the official Databricks CLI against the local workspace', () => {
  let cli: DatabricksCli;
  let dir: string;
  let emulator: DatabricksEmulator;
  const cliIn = (cwd: string, args: string[]): Promise<CliResult> => runCli(cli, args, { cwd, host: emulator.url, token: emulator.token });

  beforeAll(async () => {
    cli = await setupDatabricksCli(REPO);
    dir = mkdtempSync(join(tmpdir(), 'dbx-cli-'));
    emulator = await startDatabricksEmulator({ workDir: join(dir, 'work'), lakeRoot: join(dir, 'lake'), repoRoot: REPO, maxParallelTasks: 1 });
  });
  afterAll(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['dev', PLACEHOLDERS],
    ['prod', [...PLACEHOLDERS, '--var=deployers_group=admins']],
    ['local', []],
  ])('bundle validate -t %s passes without warnings or recommendations', async (target, vars) => {
    const r = await cliIn(BUNDLE_ROOT, ['bundle', 'validate', '-t', target, ...vars]);
    expect({ code: r.code, output: output(r) }).toEqual({ code: 0, output: expect.stringContaining('Validation OK!') });
    expect(output(r)).not.toMatch(/Warning|Recommendation|Error/);
  });

  it('bundle validate fails, naming the variable, when a required one has no value', async () => {
    const r = await cliIn(BUNDLE_ROOT, ['bundle', 'validate', '-t', 'dev']);
    expect(r.code).not.toBe(0);
    expect(output(r)).toMatch(/no value assigned to required variable (lake_root|completion_webhook_id|orbiter_service_principal|warehouse_id)/);
  });

  it('bundle deploy -t local creates the jobs, files, wheel and permissions; an unchanged second deploy changes nothing', async () => {
    // --force as npm start deploys (localForce): this emulator is new, notebooks/.databricks may name an older one's dashboard.
    const first = await cliIn(BUNDLE_ROOT, ['bundle', 'deploy', '-t', 'local', ...localForce('local')]);
    expect({ code: first.code, output: output(first) }).toEqual({ code: 0, output: expect.stringContaining('Deployment complete!') });

    const list = await cliIn(BUNDLE_ROOT, ['jobs', 'list', '-o', 'json']);
    expect(list.code).toBe(0);
    const jobs = JSON.parse(list.stdout) as { job_id: number; settings: { name: string } }[];
    expect(jobs.map((j) => j.settings.name).sort()).toEqual(EXPECTED_JOBS);

    const neows = jobs.find((j) => j.settings.name === 'orbiter-neows-pipeline')!;
    const get = await cliIn(BUNDLE_ROOT, ['jobs', 'get', String(neows.job_id), '-o', 'json']);
    const job = JSON.parse(get.stdout) as { settings: Record<string, unknown> & { tasks: Record<string, unknown>[] } };
    const root = `/Workspace/Users/local-emulator@orbiter.local/.bundle/orbiter/local`;
    // Full settings round-trip: what the CLI sent is what jobs/get answers.
    expect(job.settings).toMatchObject({
      name: 'orbiter-neows-pipeline',
      schedule: { quartz_cron_expression: '0 30 2 * * ?', timezone_id: 'UTC', pause_status: 'PAUSED' },
      job_clusters: [{ job_cluster_key: 'pipeline', new_cluster: expect.objectContaining({ spark_version: '17.3.x-scala2.13' }) }],
      webhook_notifications: { on_failure: [{ id: 'local-completion-webhook' }] },
      health: { rules: [{ metric: 'RUN_DURATION_SECONDS', op: 'GREATER_THAN', value: 1800 }] },
      deployment: { kind: 'BUNDLE', metadata_file_path: `${root}/state/metadata.json` },
      edit_mode: 'UI_LOCKED',
      tags: expect.objectContaining({ 'orbiter-env': 'local', project: 'orbiter' }),
    });
    const byKey = Object.fromEntries(job.settings.tasks.map((t) => [t['task_key'] as string, t]));
    for (const n of ['bronze', 'silver', 'gold']) expect(byKey[n]!['notebook_task']).toEqual({ notebook_path: `${root}/files/${n}` });
    expect(byKey['silver']!['depends_on']).toEqual([{ task_key: 'bronze' }]);
    expect(byKey['bronze']!['libraries']).toEqual([{ whl: `${root}/artifacts/.internal/orbiter_lake-0.1.0-py3-none-any.whl` }]);

    const api = axios.create({ baseURL: emulator.url, headers: { Authorization: `Bearer ${emulator.token}` } });
    const perms = (await api.get(`/api/2.0/permissions/jobs/${neows.job_id}`)).data as { access_control_list: Record<string, unknown>[] };
    expect(perms.access_control_list).toEqual(
      expect.arrayContaining([
        {
          service_principal_name: '00000000-0000-0000-0000-00000000a11c',
          all_permissions: [{ permission_level: 'CAN_MANAGE_RUN', inherited: false }],
        },
        { user_name: 'local-emulator@orbiter.local', all_permissions: [{ permission_level: 'IS_OWNER', inherited: false }] },
      ]),
    );
    // Synced: notebooks (as notebooks) and bundle files; not the tests, not the package sources (the wheel has them).
    const files = (await api.get('/api/2.0/workspace/list', { params: { path: `${root}/files` } })).data as {
      objects: { path: string; object_type: string }[];
    };
    const names = files.objects.map((o) => `${o.path.split('/').pop()}:${o.object_type}`);
    expect(names).toEqual(
      expect.arrayContaining(['bronze:NOTEBOOK', 'silver:NOTEBOOK', 'gold:NOTEBOOK', 'databricks.yml:FILE', 'resources:DIRECTORY']),
    );
    expect(names.filter((n) => /^(tests|orbiter_lake|dist|build)[:]/.test(n))).toEqual([]);

    // The AI/BI dashboard: created from the .lvdash.json with the catalog variable on every dataset, published without
    // embedded credentials, readable by the viewers group.
    const dashboards = (await api.get('/api/2.0/lakeview/dashboards')).data as { dashboards: { dashboard_id: string; display_name: string }[] };
    expect(dashboards.dashboards.map((d) => d.display_name)).toEqual(['Orbiter insights']);
    const dashboardId = dashboards.dashboards[0]!.dashboard_id;
    const draft = (await api.get(`/api/2.0/lakeview/dashboards/${dashboardId}`)).data as Record<string, string>;
    expect(draft).toMatchObject({
      warehouse_id: 'local-warehouse',
      parent_path: expect.stringMatching(/^\/Users\/.*\/\.bundle\/orbiter\/local\/resources$/),
    });
    const definition = JSON.parse(draft['serialized_dashboard']!) as { datasets: { name: string; catalog: string }[]; pages: unknown[] };
    expect(definition.datasets.length).toBeGreaterThanOrEqual(20);
    expect(new Set(definition.datasets.map((d) => d.catalog))).toEqual(new Set(['orbiter']));
    expect((await api.get(`/api/2.0/lakeview/dashboards/${dashboardId}/published`)).data).toMatchObject({
      embed_credentials: false,
      warehouse_id: 'local-warehouse',
    });
    const dashboardPerms = (await api.get(`/api/2.0/permissions/dashboards/${dashboardId}`)).data as {
      access_control_list: Record<string, unknown>[];
    };
    expect(dashboardPerms.access_control_list).toEqual(
      expect.arrayContaining([{ group_name: 'users', all_permissions: [{ permission_level: 'CAN_READ', inherited: false }] }]),
    );

    const second = await cliIn(BUNDLE_ROOT, ['bundle', 'deploy', '-t', 'local', '--log-level=debug']);
    expect(second.code).toBe(0);
    expect(output(second)).not.toMatch(/POST \/api\/2\.2\/jobs\/(create|reset|delete)/);
    expect(output(second)).not.toMatch(/(POST|PATCH|DELETE) \/api\/2\.0\/lakeview\//);
    const again = JSON.parse((await cliIn(BUNDLE_ROOT, ['jobs', 'list', '-o', 'json'])).stdout) as { job_id: number }[];
    expect(again.map((j) => j.job_id).sort()).toEqual(jobs.map((j) => j.job_id).sort());

    const summary = await cliIn(BUNDLE_ROOT, ['bundle', 'summary', '-t', 'local', '-o', 'json']);
    expect(summary.code).toBe(0);
    const s = JSON.parse(summary.stdout) as {
      resources: { jobs: Record<string, { id: string; name: string }>; dashboards: Record<string, { id: string }> };
    };
    expect(s.resources.jobs['orbiter_neows_pipeline']).toMatchObject({ id: String(neows.job_id), name: 'orbiter-neows-pipeline' });
    expect(s.resources.dashboards['orbiter_insights']).toMatchObject({ id: dashboardId });
  });

  it('bundle run of a small job executes the deployed notebook and prints its output; bundle destroy removes it all', async () => {
    const deploy = await cliIn(FIXTURE_ROOT, ['bundle', 'deploy']);
    expect({ code: deploy.code, output: output(deploy) }).toEqual({ code: 0, output: expect.stringContaining('Deployment complete!') });
    const run = await cliIn(FIXTURE_ROOT, ['bundle', 'run', 'echo', '--params', 'message=from the CLI']);
    expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
      code: 0,
      stdout: expect.stringContaining('echo:from the CLI'),
      stderr: expect.stringContaining('"orbiter-echo" TERMINATED SUCCESS'),
    });
    const failed = await cliIn(FIXTURE_ROOT, ['bundle', 'run', 'echo', '--params', 'message=fail']);
    expect(failed.code).not.toBe(0);
    expect(output(failed)).toMatch(/FAILED/);

    const destroy = await cliIn(FIXTURE_ROOT, ['bundle', 'destroy', '--auto-approve']);
    expect({ code: destroy.code, output: output(destroy) }).toEqual({ code: 0, output: expect.stringContaining('Destroy complete!') });
    const names = (JSON.parse((await cliIn(FIXTURE_ROOT, ['jobs', 'list', '-o', 'json'])).stdout) as { settings: { name: string } }[]).map(
      (j) => j.settings.name,
    );
    // The fixtures' jobs are gone; the real bundle's (deployed above, one of them also named orbiter-neows-pipeline) stay.
    expect(names.sort()).toEqual(EXPECTED_JOBS);
    const gone = await cliIn(FIXTURE_ROOT, ['workspace', 'get-status', '/Workspace/Users/local-emulator@orbiter.local/.bundle/orbiter-test/dev']);
    expect(gone.code).not.toBe(0);
    expect(output(gone)).toMatch(/doesn't exist/);
  });

  it('a new local workspace on the port of an earlier one gets every file (the CLI sync snapshot names host and port)', async () => {
    const port = Number(new URL(emulator.url).port);
    const notebook = `/Workspace/Users/local-emulator@orbiter.local/.bundle/orbiter/local/files/bronze`; // a notebook: no extension in the workspace
    await deployBundle({ repoRoot: REPO, host: emulator.url, token: emulator.token }, cli);
    await emulator.close();
    // A fresh workspace on the same port, as when an ephemeral port comes round again for a new `npm start`.
    emulator = await startDatabricksEmulator({
      port,
      workDir: join(dir, 'work-2'),
      lakeRoot: join(dir, 'lake-2'),
      repoRoot: REPO,
      maxParallelTasks: 1,
    });
    expect((await cliIn(BUNDLE_ROOT, ['workspace', 'get-status', notebook])).code).not.toBe(0);
    await deployBundle({ repoRoot: REPO, host: emulator.url, token: emulator.token }, cli);
    const status = await cliIn(BUNDLE_ROOT, ['workspace', 'get-status', notebook, '-o', 'json']);
    expect({ code: status.code, stdout: status.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/"object_type": ?"NOTEBOOK"/) });
  });
});
