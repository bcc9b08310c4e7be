import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobsEngine } from '../../src/engine';
import { ManualClock } from '../../src/jobs/clock';
import { latestDeltaVersion } from '../../src/jobs/tableTriggers';
import type { JobStore } from '../../src/jobStore';
import { FakeNotebookRunner, waitFor } from '../fixtures/fakeRunner';
import { localJobs } from '../fixtures/localJobs';

const ECHO = join(__dirname, '..', 'fixtures', 'bundle', 'notebooks', 'echo.py');

interface ApiRun {
  run_id: number;
  trigger: string;
  state: { life_cycle_state: string; result_state?: string };
}

/**
 * Table-update triggers on a manual clock: a "pipeline" run commits Delta versions to tables in the local lake
 * (written here as _delta_log commit files), and the watching job starts TABLE runs as Databricks would.
 */
describe('table-update triggers', () => {
  let dir: string;
  let clock: ManualClock;
  let engine: JobsEngine;
  let jobs: JobStore;
  let versions: Record<string, number>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-tables-'));
    clock = new ManualClock(Date.parse('2024-01-01T00:00:00Z'));
    ({ engine, jobs } = localJobs(dir, { runner: new FakeNotebookRunner(1), clock }));
    versions = {};
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tasks = [{ task_key: 't', notebook_task: { notebook_path: ECHO, base_parameters: { message: 'ok' } } }];
  const runsOf = (jobId: number): ApiRun[] => ((engine.runs.list({ job_id: jobId }) as { runs?: ApiRun[] }).runs ?? []).reverse();
  const job = (extra: Record<string, unknown>): number => jobs.create({ name: `job-${Math.random()}`, tasks, ...extra }).job_id;
  const watcher = (tableUpdate: Record<string, unknown>, pause_status = 'UNPAUSED'): number =>
    job({ trigger: { pause_status, table_update: { table_names: ['orbiter.gold.a', 'orbiter.gold.b'], ...tableUpdate } } });
  /** A Delta commit to <lake>/gold/<table>. */
  const commit = (table: string): void => {
    const log = join(dir, 'lake', 'gold', table, '_delta_log');
    mkdirSync(log, { recursive: true });
    const v = (versions[table] = (versions[table] ?? -1) + 1);
    writeFileSync(join(log, `${String(v).padStart(20, '0')}.json`), '{}\n');
  };
  /** A pipeline run that committed to `tables`, finished (tables are checked when a run ends). */
  const pipeline = async (...tables: string[]): Promise<void> => {
    for (const t of tables) commit(t);
    const id = job({});
    const { run_id } = engine.runs.runNow({ job_id: id });
    await waitFor(() => runsOf(id).some((r) => r.run_id === run_id && r.state.life_cycle_state === 'TERMINATED'), 10_000, 'the pipeline run');
  };
  const tableRuns = (jobId: number, n: number): Promise<ApiRun[]> =>
    waitFor(() => (runsOf(jobId).length === n ? runsOf(jobId) : undefined), 10_000, `${n} table-triggered runs`);

  it('reads the latest version from a Delta log, undefined without one', () => {
    expect(latestDeltaVersion(join(dir, 'lake', 'gold', 'a'))).toBeUndefined();
    commit('a');
    commit('a');
    expect(latestDeltaVersion(join(dir, 'lake', 'gold', 'a'))).toBe(1);
  });

  it('starts one TABLE run after a burst of updates, wait_after_last_change_seconds after the last one', async () => {
    const insights = watcher({ wait_after_last_change_seconds: 60 });
    await pipeline('a');
    clock.advance(30_000);
    await pipeline('b'); // resets the wait
    clock.advance(59_000);
    expect(runsOf(insights)).toHaveLength(0);
    clock.advance(1_000);
    const [run] = await tableRuns(insights, 1);
    expect(run!.trigger).toBe('TABLE');
    // Nothing changed since: later runs ending (its own included) start nothing more.
    await pipeline();
    clock.advance(3600_000);
    expect(runsOf(insights)).toHaveLength(1);
  });

  it('without delays fires as soon as a run that changed a table ends; a run changing nothing fires nothing', async () => {
    const insights = watcher({});
    await pipeline();
    clock.advance(60_000);
    expect(runsOf(insights)).toHaveLength(0);
    await pipeline('a');
    clock.advance(0);
    await tableRuns(insights, 1);
  });

  it('ALL_UPDATED waits until every table changed', async () => {
    const insights = watcher({ condition: 'ALL_UPDATED' });
    await pipeline('a');
    await pipeline('a');
    clock.advance(3600_000);
    expect(runsOf(insights)).toHaveLength(0);
    await pipeline('b');
    clock.advance(0);
    await tableRuns(insights, 1);
  });

  it('leaves min_time_between_triggers_seconds between two triggers', async () => {
    const insights = watcher({ min_time_between_triggers_seconds: 300 });
    await pipeline('a');
    clock.advance(0);
    await tableRuns(insights, 1);
    await pipeline('b');
    clock.advance(299_000);
    expect(runsOf(insights)).toHaveLength(1);
    clock.advance(1_000);
    await tableRuns(insights, 2);
  });

  it('a PAUSED trigger, or tables that existed before it was armed, start nothing', async () => {
    commit('a');
    const paused = watcher({}, 'PAUSED');
    const armedLate = watcher({});
    await pipeline();
    clock.advance(60_000);
    expect(runsOf(armedLate)).toHaveLength(0);
    await pipeline('b');
    clock.advance(0);
    await tableRuns(armedLate, 1);
    expect(runsOf(paused)).toHaveLength(0);
  });

  it('refuses delays under 60 s, bad table names and a second trigger kind, naming the field', () => {
    expect(() => watcher({ wait_after_last_change_seconds: 30 })).toThrow(
      /trigger\.table_update\.wait_after_last_change_seconds: must be at least 60/,
    );
    expect(() => job({ trigger: { table_update: { table_names: ['gold.a'] } } })).toThrow(
      /table_names\.0: must be catalog_name\.schema_name\.table_name/,
    );
    expect(() =>
      job({
        schedule: { quartz_cron_expression: '0 0 6 * * ?', timezone_id: 'UTC' },
        trigger: { table_update: { table_names: ['orbiter.gold.a'] } },
      }),
    ).toThrow(/at most one of schedule, continuous and trigger \(got schedule and trigger\)/);
    expect(() => job({ trigger: { table_update: { table_names: ['orbiter.gold.a'] }, file_arrival: { url: 'abfss://x@y/' } } })).toThrow(
      /exactly one of table_update, file_arrival, periodic is required \(got table_update and file_arrival\)/,
    );
  });
});
