import { join } from 'node:path';
import { loadBundle } from '../../src/bundleJobs';
import { emulatorSettings } from '../../src/jobSettings';
import { localBlobPath, localiseLakeUrl, localLakeRoot, parseManifest } from '../../src/lake';
import { REQUIRED_JOB_PARAMETERS } from 'orbiter/shared/catalog/index';
import { loadJobCatalog } from 'orbiter/shared/catalog/loader';

const REPO = join(__dirname, '..', '..', '..', '..');
const FIXTURE = join(REPO, 'packages', 'databricks-emulator', 'test', 'fixtures', 'bundle');

describe('bundle jobs for the quick deploy (localDeploy)', () => {
  it('loads included jobs, resolves variables for the default target and relative notebook paths', () => {
    const bundle = loadBundle(join(FIXTURE, 'databricks.yml'), { env: {} });
    expect(bundle.target).toBe('dev');
    expect(bundle.jobs.map((j) => j.settings.name).sort()).toEqual(['orbiter-echo', 'orbiter-neows-pipeline', 'orbiter-nowait']);
    const pipeline = bundle.jobs.find((j) => j.key === 'pipeline')!;
    expect(pipeline.settings.parameters).toContainEqual({ name: 'lake_root', default: 'abfss://{zone}@devlake.dfs.core.windows.net' });
    expect(pipeline.settings.parameters).toContainEqual({ name: 'source', default: 'neows' });
    expect(pipeline.settings.tasks!.map((t) => [t.task_key, (t.depends_on ?? []).map((d) => d.task_key)])).toEqual([
      ['bronze', []],
      ['silver', ['bronze']],
      ['gold', ['silver']],
    ]);
    // ../notebooks/stage.py resolves against resources/, the file that names it.
    expect(pipeline.settings.tasks![2]!.notebook_task!.notebook_path).toBe(join(FIXTURE, 'notebooks', 'stage.py'));
    expect(pipeline.settings.max_concurrent_runs).toBe(1);
    // Jobs API defaults as the engine sees them: queueing on unless the job turns it off.
    expect(emulatorSettings(pipeline.settings).queue).toEqual({ enabled: true });
    expect(emulatorSettings(bundle.jobs.find((j) => j.key === 'nowait')!.settings).queue).toEqual({ enabled: false });
  });

  it('merges target resources (tasks by task_key) and honours variable overrides', () => {
    const bundle = loadBundle(join(FIXTURE, 'databricks.yml'), { target: 'wide', env: { BUNDLE_VAR_default_source: 'donki' } });
    const pipeline = bundle.jobs.find((j) => j.key === 'pipeline')!;
    expect(pipeline.settings.max_concurrent_runs).toBe(3);
    expect(pipeline.settings.tasks).toHaveLength(3);
    expect(pipeline.settings.tasks![2]!.notebook_task!.base_parameters).toEqual({ stage: 'gold', mode: 'wide' });
    expect(pipeline.settings.parameters).toContainEqual({ name: 'source', default: 'donki' });
    expect(pipeline.settings.parameters).toContainEqual({ name: 'lake_root', default: 'abfss://{zone}@prodlake.dfs.core.windows.net' });
    const overridden = loadBundle(join(FIXTURE, 'databricks.yml'), {
      variables: { lake_root: '/tmp/lake' },
      env: { BUNDLE_VAR_lake_root: 'ignored' },
    });
    expect(overridden.jobs.find((j) => j.key === 'pipeline')!.settings.parameters).toContainEqual({ name: 'lake_root', default: '/tmp/lake' });
    expect(() => loadBundle(join(FIXTURE, 'databricks.yml'), { target: 'nope' })).toThrow(/target "nope"/);
  });

  const realBundle = join(REPO, 'notebooks', 'databricks.yml');
  it('serves every dataset of config/job-catalog.json from the real bundle, with the contract parameters', async () => {
    const bundle = loadBundle(realBundle, { target: 'local', env: {} });
    const catalog = await loadJobCatalog(join(REPO, 'config', 'job-catalog.json'));
    for (const entry of Object.values(catalog.datasets)) {
      const job = bundle.jobs.find((j) => j.settings.name === entry.job.name);
      expect(job).toBeDefined();
      const params = job!.settings.parameters!.map((p) => p.name);
      for (const name of REQUIRED_JOB_PARAMETERS) expect(params).toContain(name);
      expect(job!.settings.tasks!.map((t) => t.task_key)).toEqual(['bronze', 'silver', 'gold']);
      for (const t of job!.settings.tasks!) expect(t.notebook_task?.notebook_path).toMatch(/notebooks[\\/](bronze|silver|gold)\.py$/);
      expect(job!.settings.parameters!.find((p) => p.name === 'source')?.default).toBe(entry.dataset);
      expect(job!.settings.max_concurrent_runs).toBeGreaterThanOrEqual(entry.maxRunsInFlight);
    }
  });
});

describe('emulator lake paths', () => {
  it('maps abfss URLs and {zone} lake roots onto the local lake directory', () => {
    expect(localiseLakeUrl('abfss://raw@acct.dfs.core.windows.net/neows/feed/x.json', '/lake')).toBe('/lake/raw/neows/feed/x.json');
    expect(localiseLakeUrl('abfss://gold@acct.dfs.core.windows.net', '/lake')).toBe('/lake/gold');
    expect(localiseLakeUrl('abfss://{zone}@acct.dfs.core.windows.net', '/lake')).toBe('/lake');
    expect(localiseLakeUrl('neows', '/lake')).toBe('neows');
    expect(localLakeRoot('abfss://{zone}@acct.dfs.core.windows.net', '/lake')).toBe('/lake');
    expect(localLakeRoot('${var.lake_root}', '/lake')).toBe('/lake');
    expect(localLakeRoot('', '/lake')).toBe('/lake');
    expect(localLakeRoot('/elsewhere/lake', '/lake')).toBe('/elsewhere/lake');
  });

  it('parses the input manifest ("" or no files = everything) and keeps blob paths inside the lake', () => {
    expect(parseManifest('')).toBe('all');
    expect(parseManifest('{"files":[]}')).toBe('all');
    expect(parseManifest('{"files":[{"container":"raw","path":"neows/a.json","etag":"0x1"}]}')).toEqual([
      { container: 'raw', path: 'neows/a.json', etag: '0x1' },
    ]);
    expect(() => parseManifest('{"files":')).toThrow(SyntaxError);
    expect(parseManifest('{"ref":{"container":"events","path":"manifests/neows/r1.json"}}')).toEqual({
      ref: { container: 'events', path: 'manifests/neows/r1.json' },
    });
    expect(() => parseManifest('{"ref":{"container":"events"}}')).toThrow(/path/);
    expect(() => parseManifest('{"ref":{"container":"events","path":"m.json"},"files":[]}')).toThrow(); // one form or the other
    expect(localBlobPath('/lake', { container: 'raw', path: 'neows/a.json' })).toBe('/lake/raw/neows/a.json');
    expect(() => localBlobPath('/lake', { container: 'raw', path: '../../etc/passwd' })).toThrow(RangeError);
    // attack: stays inside the lake once normalised, but in another zone
    expect(() => localBlobPath('/lake', { container: 'raw', path: 'neows/../../quarantine/neows/x.json' })).toThrow(/not inside a lake zone/);
    expect(() => localBlobPath('/lake', { container: '../raw', path: 'neows/x.json' })).toThrow(RangeError);
  });
});
