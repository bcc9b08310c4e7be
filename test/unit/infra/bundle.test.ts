import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBundle } from '@orbiter/databricks-emulator/bundleJobs';
import { loadJobCatalog, REQUIRED_JOB_PARAMETERS, type JobCatalog } from '../../../shared/catalog';
import { sourceIds } from '../../../shared/config';
import {
  BUNDLE_DIR,
  BUNDLE_FILE,
  BUNDLE_SCHEMA_FILE,
  collectJobs,
  loadBundleFiles,
  REPO_ROOT,
  resolveVars,
  targetVariables,
  type BundleFile,
  type Doc,
  type ResolvedJob,
} from './support/bundle';
import { JsonSchemaValidator } from './support/jsonSchema';

/**
 * Offline checks of the Databricks Asset Bundle (notebooks/databricks.yml) against the CLI's published JSON schema
 * and Orbiter's own contracts (docs/contracts.md job names and parameters, config/job-catalog.json). The official
 * CLI's `bundle validate` of every target runs in test/integration/bundle against the local workspace.
 */

// Values a deployer must pass (--var / BUNDLE_VAR_*); placeholders are enough to resolve the configuration.
const PROVIDED_VARS = {
  lake_root: 'abfss://{zone}@stlaketest.dfs.core.windows.net',
  completion_webhook_id: '00000000-0000-0000-0000-000000000000',
  orbiter_service_principal: '11111111-1111-1111-1111-111111111111',
  warehouse_id: '0123456789abcdef',
};
const TARGETS = ['dev', 'prod', 'local'] as const;
const PIPELINE_TASKS = ['bronze', 'silver', 'gold'] as const;
// Databricks Runtime LTS lines on Azure (release notes); the contract pins 17.3 LTS (Spark 4.0).
const LTS_RUNTIMES = ['15.4', '16.4', '17.3'];

const schema = JSON.parse(readFileSync(BUNDLE_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
const validator = new JsonSchemaValidator(schema);
const files: BundleFile[] = loadBundleFiles();
const root = files[0]!.doc;
const jobs: ResolvedJob[] = collectJobs(files);

function jobNamed(name: string): ResolvedJob {
  const found = jobs.filter((j) => j.job.name === name);
  if (found.length !== 1) throw new Error(`expected exactly one bundle job named ${name}, found ${found.length}`);
  return found[0]!;
}

function resolvedJob(job: ResolvedJob, target: string): Doc {
  return resolveVars(job.job, targetVariables(root, target, PROVIDED_VARS));
}

/** notebook_path / whl values are relative to the YAML file that defines them. */
function repoPath(job: ResolvedJob, path: string): string {
  return resolve(BUNDLE_DIR, job.file, '..', path);
}

const tasksOf = (job: Doc) => (job.tasks ?? []) as Doc[];
const paramsOf = (job: Doc) => (job.parameters ?? []) as { name: string; default: unknown }[];

describe('bundle files against the Databricks CLI JSON schema', () => {
  it.each(files.map((f) => [f.file, f.doc] as const))('%s is valid', (_file, doc) => {
    expect(validator.validate(doc)).toEqual([]);
  });

  it('includes resource files', () => {
    expect(files.length).toBeGreaterThan(1);
  });

  // The validator must be able to fail: these are the mistakes it exists to catch.
  it('rejects an unknown job property, a bad enum value and a non-integer worker count', () => {
    const bad = {
      resources: {
        jobs: {
          broken: {
            name: 'x',
            max_concurent_runs: 1,
            job_clusters: [
              {
                job_cluster_key: 'c',
                new_cluster: { autoscale: { min_workers: 'one', max_workers: 2 }, azure_attributes: { availability: 'SPOT' } },
              },
            ],
          },
        },
      },
    };
    const paths = validator.validate(bad).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'resources.jobs.broken.max_concurent_runs',
        'resources.jobs.broken.job_clusters[0].new_cluster.autoscale.min_workers',
        'resources.jobs.broken.job_clusters[0].new_cluster.azure_attributes.availability',
      ]),
    );
  });

  it('accepts ${var.*} references where the schema allows them', () => {
    expect(validator.validate({ resources: { jobs: { j: { name: 'x', max_concurrent_runs: '${var.n}' } } } })).toEqual([]);
  });
});

describe('bundle targets and variables', () => {
  it('has dev (default), prod and local targets', () => {
    const targets = root.targets as Record<string, Doc>;
    expect(Object.keys(targets).sort()).toEqual(['dev', 'local', 'prod']);
    expect(targets.dev!.default).toBe(true);
  });

  it.each(TARGETS)('every ${var.*} reference in %s resolves', (target) => {
    const vars = targetVariables(root, target, PROVIDED_VARS);
    for (const f of files) expect(() => resolveVars(f.doc, vars)).not.toThrow();
  });

  it('leaves the deployment-specific values without defaults, so a deploy cannot silently use a placeholder', () => {
    const variables = root.variables as Record<string, Doc>;
    for (const name of Object.keys(PROVIDED_VARS)) expect(variables[name]).not.toHaveProperty('default');
    expect(() => targetVariables(root, 'prod')).toThrow(/no value for variable/);
  });

  it('lies at the root of the notebooks folder and syncs it without the tests and the package sources', () => {
    expect(BUNDLE_DIR).toBe(join(REPO_ROOT, 'notebooks'));
    expect(root.sync).toEqual({ exclude: ['tests/**', 'orbiter_lake/**'] });
    // Excludes are relative to the bundle root: each names something that exists there.
    for (const pattern of (root.sync as { exclude: string[] }).exclude) expect(existsSync(join(BUNDLE_DIR, pattern.replace('/**', '')))).toBe(true);
  });

  it('defines one job per resources/*.job.yml file and the dashboard in resources/*.dashboard.yml', () => {
    expect(root.include).toEqual(['resources/*.job.yml', 'resources/*.dashboard.yml']);
    for (const f of files.slice(1).filter((f) => f.file.endsWith('.job.yml')))
      expect(Object.keys(((f.doc.resources as Doc).jobs ?? {}) as Doc)).toHaveLength(1);
  });

  it('builds the notebooks package as a wheel artifact', () => {
    const artifacts = Object.values(root.artifacts as Record<string, Doc>);
    expect(artifacts).toHaveLength(1);
    expect(artifacts[0]).toMatchObject({ type: 'whl' });
    expect(resolve(BUNDLE_DIR, artifacts[0]!.path as string)).toBe(join(REPO_ROOT, 'notebooks'));
    // Built in the deploying environment (scripts/setup-bundle-python.sh installs build, setuptools, wheel).
    expect(artifacts[0]!.build).toBe('python3 -m build --wheel --no-isolation --outdir dist .');
    expect(artifacts[0]!.build).toEqual(expect.stringContaining('--wheel'));
  });

  it('lets the Orbiter service principal run the jobs (CAN_RUN: the bundle-level name of CAN_MANAGE_RUN on jobs)', () => {
    expect(root.permissions).toEqual([{ service_principal_name: '${var.orbiter_service_principal}', level: 'CAN_RUN' }]);
  });

  it("gives each target's deploying identity CAN_MANAGE, and keeps prod out of /Workspace/Shared", () => {
    const targets = root.targets as Record<string, Doc>;
    for (const t of ['dev', 'local'])
      expect(targets[t]!.permissions).toEqual([{ user_name: '${workspace.current_user.userName}', level: 'CAN_MANAGE' }]);
    expect(targets.prod!.permissions).toEqual([{ group_name: '${var.deployers_group}', level: 'CAN_MANAGE' }]);
    for (const t of Object.values(targets))
      expect((t.workspace as Doc).root_path).toMatch(/^\/Workspace\/Users\/\$\{workspace\.current_user\.userName\}\//);
  });
});

describe('jobs per docs/contracts.md', () => {
  const expectedNames = [
    ...sourceIds.map((s) => `orbiter-${s}-pipeline`),
    'orbiter-run-metrics-stream',
    'orbiter-visual-insights',
    'orbiter-table-maintenance',
  ];

  it('defines exactly the contract jobs', () => {
    expect(jobs.map((j) => j.job.name).sort()).toEqual([...expectedNames].sort());
  });

  it.each(sourceIds)('orbiter-%s-pipeline runs bronze -> silver -> gold notebooks for its source', (source) => {
    const job = jobNamed(`orbiter-${source}-pipeline`);
    const tasks = tasksOf(job.job);
    expect(tasks.map((t) => t.task_key)).toEqual([...PIPELINE_TASKS]);
    tasks.forEach((t, i) => {
      const notebook = (t.notebook_task as Doc).notebook_path as string;
      expect(repoPath(job, notebook)).toBe(join(REPO_ROOT, 'notebooks', `${PIPELINE_TASKS[i]}.py`));
      expect(t.depends_on ?? []).toEqual(i === 0 ? [] : [{ task_key: PIPELINE_TASKS[i - 1] }]);
    });
    expect(paramsOf(job.job).find((p) => p.name === 'source')?.default).toBe(source);
  });

  it.each([
    ['orbiter-run-metrics-stream', 'stream_run_metrics.py'],
    ['orbiter-visual-insights', 'visual_insights.py'],
    ['orbiter-table-maintenance', 'table_maintenance.py'],
  ])('%s runs notebooks/%s', (name, notebook) => {
    const job = jobNamed(name);
    const paths = tasksOf(job.job).map((t) => repoPath(job, (t.notebook_task as Doc).notebook_path as string));
    expect(paths).toEqual([join(REPO_ROOT, 'notebooks', notebook)]);
  });

  it.each(expectedNames)('%s declares the contract job parameters, defaults from variables', (name) => {
    const params = paramsOf(jobNamed(name).job);
    expect(params.map((p) => p.name).sort()).toEqual([...REQUIRED_JOB_PARAMETERS].sort());
    for (const p of params) expect(typeof p.default).toBe('string');
    const byName = Object.fromEntries(params.map((p) => [p.name, p.default]));
    expect(byName.lake_root).toBe('${var.lake_root}');
    expect(byName.input_manifest).toBe('${var.default_input_manifest}');
    expect(byName.orbiter_run_id).toBe('${var.default_run_id}');
  });

  it('defaults input_manifest to the "process everything" manifest', () => {
    const vars = targetVariables(root, 'prod', PROVIDED_VARS);
    expect(JSON.parse(vars.default_input_manifest as string)).toEqual({ files: [] });
  });

  it.each(jobs.map((j) => [j.job.name as string, j] as const))('%s has a well-formed task graph', (_name, job) => {
    const tasks = tasksOf(job.job);
    const keys = tasks.map((t) => t.task_key as string);
    expect(new Set(keys).size).toBe(keys.length);
    const clusterKeys = ((job.job.job_clusters ?? []) as Doc[]).map((c) => c.job_cluster_key);
    const done = new Set<string>();
    // Tasks are listed in dependency order, which also proves the graph is acyclic.
    for (const t of tasks) {
      for (const d of (t.depends_on ?? []) as Doc[]) expect(done.has(d.task_key as string)).toBe(true);
      expect(clusterKeys).toContain(t.job_cluster_key);
      expect(t.libraries).toEqual([{ whl: '../dist/*.whl' }]);
      expect(repoPath(job, '../dist')).toBe(join(REPO_ROOT, 'notebooks/dist'));
      done.add(t.task_key as string);
    }
  });
});

describe.each(TARGETS)('job settings in target %s', (target) => {
  const resolved = jobs.map((j) => [j.job.name as string, resolvedJob(j, target)] as const);

  it.each(resolved)('%s: clusters are well-formed (autoscale, pinned LTS runtime, Azure nodes, spot with fallback)', (_name, job) => {
    const clusters = (job.job_clusters ?? []) as Doc[];
    expect(clusters.length).toBeGreaterThan(0);
    for (const c of clusters) {
      const spec = c.new_cluster as Doc;
      const autoscale = spec.autoscale as { min_workers: unknown; max_workers: unknown };
      expect(Number.isInteger(autoscale.min_workers)).toBe(true);
      expect(Number.isInteger(autoscale.max_workers)).toBe(true);
      expect(autoscale.min_workers as number).toBeGreaterThanOrEqual(0);
      expect(autoscale.min_workers as number).toBeLessThanOrEqual(autoscale.max_workers as number);
      expect(spec).not.toHaveProperty('num_workers');
      const runtime = /^(\d+\.\d+)\.x-scala2\.1[23]$/.exec(spec.spark_version as string);
      expect(runtime).not.toBeNull();
      expect(LTS_RUNTIMES).toContain(runtime![1]);
      expect(spec.node_type_id).toMatch(/^Standard_[A-Z]/);
      expect(spec.driver_node_type_id).toMatch(/^Standard_[A-Z]/);
      expect(spec.azure_attributes).toMatchObject({ availability: 'SPOT_WITH_FALLBACK_AZURE', first_on_demand: 1 });
    }
  });

  it.each(resolved)('%s: queues, limits concurrency and notifies the completion webhook', (_name, job) => {
    expect(job.queue).toEqual({ enabled: true });
    expect(Number.isInteger(job.max_concurrent_runs)).toBe(true);
    expect(job.max_concurrent_runs as number).toBeGreaterThanOrEqual(1);
    const hooks = job.webhook_notifications as Record<string, { id: string }[]>;
    expect(hooks.on_failure).toEqual([{ id: PROVIDED_VARS.completion_webhook_id }]);
  });

  it('schedules every batch job, paused outside prod', () => {
    const pause = target === 'prod' ? 'UNPAUSED' : 'PAUSED';
    for (const [name, job] of resolved) {
      if (name === 'orbiter-run-metrics-stream') {
        expect(job.continuous).toEqual({ pause_status: pause });
        continue;
      }
      if (name === 'orbiter-visual-insights') continue; // triggered by the gold tables (below), not scheduled
      const schedule = job.schedule as Doc;
      expect(schedule.pause_status).toBe(pause);
      expect(schedule.timezone_id).toBe('UTC');
      expect((schedule.quartz_cron_expression as string).trim().split(/\s+/).length).toBeGreaterThanOrEqual(6);
    }
  });

  it('runs the insights job when the gold tables change: a table-update trigger on every gold table, unpaused, its only trigger', () => {
    const job = resolved.find(([n]) => n === 'orbiter-visual-insights')![1];
    expect(job.schedule).toBeUndefined();
    expect(job.continuous).toBeUndefined();
    const trigger = job.trigger as Doc;
    expect(Object.keys(trigger).sort()).toEqual(['pause_status', 'table_update']);
    expect(trigger.pause_status).toBe('UNPAUSED');
    const update = trigger.table_update as Doc;
    // The gold notebook's tables (orbiter_lake/gold.py GOLD_TABLES), by their Unity Catalog names.
    const gold = readFileSync(join(REPO_ROOT, 'notebooks/orbiter_lake/gold.py'), 'utf8').split('GOLD_TABLES = {')[1]!.split('}')[0]!;
    const tables = [...new Set([...gold.matchAll(/"(\w+)"/g)].map((m) => m[1]!))].filter((t) => !sourceIds.includes(t as never));
    expect([...(update.table_names as string[])].sort()).toEqual(tables.map((t) => `orbiter.gold.${t}`).sort());
    // Databricks' floor for both delays is 60 s.
    expect(update.wait_after_last_change_seconds as number).toBeGreaterThanOrEqual(60);
    expect(update.min_time_between_triggers_seconds as number).toBeGreaterThanOrEqual(60);
  });

  it('notifies completion of every dataset pipeline, success and failure', () => {
    for (const source of sourceIds) {
      const job = resolved.find(([n]) => n === `orbiter-${source}-pipeline`)![1];
      const hooks = job.webhook_notifications as Record<string, { id: string }[]>;
      expect(hooks.on_success).toEqual([{ id: PROVIDED_VARS.completion_webhook_id }]);
    }
  });
});

describe('bundle against config/job-catalog.json', () => {
  const catalogPath = join(REPO_ROOT, 'config/job-catalog.json');
  let catalog: JobCatalog;

  beforeAll(async () => {
    if (!existsSync(catalogPath)) throw new Error(`${catalogPath} is missing: the dispatcher's job catalog must exist for this check`);
    catalog = await loadJobCatalog(catalogPath);
  });

  it('lists every contract source, and only those', () => {
    expect(Object.keys(catalog.datasets).sort()).toEqual([...sourceIds].sort());
  });

  it('names a bundle job for every dataset', () => {
    for (const entry of Object.values(catalog.datasets)) expect(() => jobNamed(entry.job.name)).not.toThrow();
  });

  it('declares on the job every parameter the dispatcher sends', () => {
    for (const entry of Object.values(catalog.datasets)) {
      const declared = paramsOf(jobNamed(entry.job.name).job).map((p) => p.name);
      const sent = [...Object.keys(entry.jobParameters), ...entry.userParameters.map((p) => p.name)];
      expect({ dataset: entry.dataset, missing: sent.filter((n) => !declared.includes(n)) }).toEqual({ dataset: entry.dataset, missing: [] });
    }
  });

  it.each(TARGETS)('allows at least maxRunsInFlight concurrent runs per job in %s', (target) => {
    for (const entry of Object.values(catalog.datasets)) {
      const job = resolvedJob(jobNamed(entry.job.name), target);
      expect(job.max_concurrent_runs as number).toBeGreaterThanOrEqual(entry.maxRunsInFlight);
    }
  });
});

describe('the quick deploy of tests (localDeploy) reads the same bundle', () => {
  it('loads every job with the notebooks and parameters the deployed bundle has', () => {
    const local = loadBundle(BUNDLE_FILE, { env: {}, variables: { ...PROVIDED_VARS, lake_root: '/tmp/orbiter-lake' } });
    expect(local.jobs.map((j) => j.settings.name).sort()).toEqual(jobs.map((j) => j.job.name).sort());
    for (const j of jobs) {
      const emulated = local.jobs.find((l) => l.settings.name === j.job.name)!;
      const notebooks = tasksOf(j.job).map((t) => repoPath(j, (t.notebook_task as Doc).notebook_path as string));
      expect(emulated.settings.tasks!.map((t) => t.notebook_task?.notebook_path)).toEqual(notebooks);
      expect(emulated.settings.parameters).toContainEqual({ name: 'lake_root', default: '/tmp/orbiter-lake' });
    }
  });
});

describe('the insights dashboard (AI/BI, resources/orbiter_insights.dashboard.yml)', () => {
  const file = files.find((f) => f.file.endsWith('.dashboard.yml'))!;
  const dashboards = (file.doc.resources as Doc).dashboards as Record<string, Doc>;
  const dashboard = dashboards['orbiter_insights']!;
  const lvdash = JSON.parse(readFileSync(resolve(BUNDLE_DIR, file.file, '..', dashboard.file_path as string), 'utf8')) as {
    datasets: { name: string; queryLines: string[] }[];
  };

  it('is the only resource of its file: an existing .lvdash.json, a warehouse and a catalog from variables, no embedded credentials', () => {
    expect(Object.keys(file.doc.resources as Doc)).toEqual(['dashboards']);
    expect(Object.keys(dashboards)).toEqual(['orbiter_insights']);
    expect(dashboard).toMatchObject({ warehouse_id: '${var.warehouse_id}', dataset_catalog: '${var.catalog}', embed_credentials: false });
    expect(dashboard.permissions).toEqual([{ group_name: '${var.dashboard_viewers_group}', level: 'CAN_READ' }]);
  });

  it('ships its definition in the wheel (package data under orbiter_lake/), where the insights notebook reads it', () => {
    expect(dashboard.file_path).toBe('../orbiter_lake/dashboards/orbiter_insights.lvdash.json');
  });

  it('reads every table the insights trigger watches, and only gold tables, by schema-qualified name', () => {
    const job = collectJobs(files).find((j) => j.job.name === 'orbiter-visual-insights')!;
    const watched = ((job.job.trigger as Doc).table_update as Doc).table_names as string[];
    const sql = lvdash.datasets.map((d) => d.queryLines.join('')).join('\n');
    const read = new Set([...sql.matchAll(/\bFROM\s+(\w+)\.(\w+)/gi)].map((m) => `${m[1]}.${m[2]}`));
    expect([...read].filter((t) => !t.startsWith('gold.'))).toEqual([]);
    for (const t of watched) expect(read).toContain(t.replace('${var.catalog}.', ''));
  });
});
