import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobsEngine } from '../../src/engine';
import { ManualClock } from '../../src/jobs/clock';
import type { JobStore } from '../../src/jobStore';
import { FakeNotebookRunner, waitFor } from '../fixtures/fakeRunner';
import { localJobs } from '../fixtures/localJobs';

const ECHO = join(__dirname, '..', 'fixtures', 'bundle', 'notebooks', 'echo.py');

interface ApiRun {
  run_id: number;
  trigger: string;
  state: { life_cycle_state: string; result_state?: string };
}

/** Schedules and continuous jobs on a manual clock: time moves only when the test says so (no sleeps). */
describe('job scheduler (Quartz schedules, continuous jobs)', () => {
  let dir: string;
  let clock: ManualClock;
  let runner: FakeNotebookRunner;
  let engine: JobsEngine;
  let jobs: JobStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbx-sched-'));
    clock = new ManualClock(Date.parse('2024-01-01T00:00:00Z'));
    runner = new FakeNotebookRunner(1);
    ({ engine, jobs } = localJobs(dir, { runner, clock, continuousBackoffMs: 10_000 }));
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const runsOf = (jobId: number): ApiRun[] => ((engine.runs.list({ job_id: jobId }) as { runs?: ApiRun[] }).runs ?? []).reverse();
  const job = (extra: Record<string, unknown>, message = 'ok'): number =>
    jobs.create({
      name: `job-${Math.random()}`,
      tasks: [{ task_key: 't', notebook_task: { notebook_path: ECHO, base_parameters: { message } } }],
      ...extra,
    }).job_id;
  const settled = (jobId: number, n: number): Promise<ApiRun[]> =>
    waitFor(
      () => {
        const runs = runsOf(jobId);
        return runs.length === n && runs.every((r) => r.state.life_cycle_state === 'TERMINATED') && runs;
      },
      10_000,
      `${n} finished runs`,
    );

  it('an UNPAUSED schedule starts a PERIODIC run at each fire time; a PAUSED one never does', async () => {
    const daily = job({ schedule: { quartz_cron_expression: '0 30 2 * * ?', timezone_id: 'UTC', pause_status: 'UNPAUSED' } });
    const paused = job({ schedule: { quartz_cron_expression: '0 30 2 * * ?', timezone_id: 'UTC', pause_status: 'PAUSED' } });
    clock.advance(2 * 3600_000 + 29 * 60_000);
    expect(runsOf(daily)).toHaveLength(0);
    clock.advance(60_000);
    const [first] = await settled(daily, 1);
    expect(first).toMatchObject({ trigger: 'PERIODIC', state: { result_state: 'SUCCESS' } });
    clock.advance(24 * 3600_000);
    await settled(daily, 2);
    expect(runsOf(paused)).toHaveLength(0);
  });

  it('leaves at least 10 s between scheduled runs, as Databricks does, even for an every-second expression', async () => {
    const busy = job({ schedule: { quartz_cron_expression: '* * * * * ?', timezone_id: 'UTC', pause_status: 'UNPAUSED' } });
    clock.advance(1_000);
    await settled(busy, 1);
    clock.advance(9_000);
    expect(runsOf(busy)).toHaveLength(1);
    clock.advance(1_000);
    await settled(busy, 2);
  });

  it('refuses a schedule Quartz would refuse, naming the field', () => {
    expect(() => job({ schedule: { quartz_cron_expression: '30 2 * * *', timezone_id: 'UTC' } })).toThrow(/schedule: .*6 or 7 fields/);
  });

  it('re-arms a job when jobs/reset, jobs/update or jobs/delete change its schedule', async () => {
    const hourly = { quartz_cron_expression: '0 0 * * * ?', timezone_id: 'UTC', pause_status: 'UNPAUSED' };
    const daily = { quartz_cron_expression: '0 30 2 * * ?', timezone_id: 'UTC', pause_status: 'UNPAUSED' };
    const id = job({ schedule: hourly });
    const tasks = [{ task_key: 't', notebook_task: { notebook_path: ECHO, base_parameters: { message: 'ok' } } }];
    // reset: the new (daily 02:30) schedule replaces the hourly one, which no longer fires at 01:00.
    jobs.reset({ job_id: id, new_settings: { name: 'reset', tasks, schedule: daily } });
    clock.advance(3600_000);
    expect(runsOf(id)).toHaveLength(0);
    clock.advance(90 * 60_000);
    await settled(id, 1);
    // update: pausing it stops the next fire time.
    jobs.update({ job_id: id, new_settings: { schedule: { ...daily, pause_status: 'PAUSED' } } });
    clock.advance(24 * 3600_000);
    expect(runsOf(id)).toHaveLength(1);
    // update: unpausing arms it again.
    jobs.update({ job_id: id, new_settings: { schedule: daily } });
    clock.advance(24 * 3600_000);
    await settled(id, 2);
    // delete: nothing fires any more.
    jobs.delete({ job_id: id });
    expect(clock.next()).toBeUndefined();
  });

  it('a continuous job paused by jobs/update is not restarted; unpausing it starts a run', async () => {
    runner.hold('t');
    const stream = job({ continuous: { pause_status: 'UNPAUSED' } });
    await waitFor(() => runner.blocked('t') === 1, 10_000, 'the continuous run to start');
    jobs.update({ job_id: stream, new_settings: { continuous: { pause_status: 'PAUSED' } } });
    runner.release('t');
    await settled(stream, 1);
    clock.advance(3600_000);
    expect(runsOf(stream)).toHaveLength(1);
    // Unpaused: a run starts at once (held here, or each success would start the next).
    runner.hold('t');
    jobs.update({ job_id: stream, new_settings: { continuous: { pause_status: 'UNPAUSED' } } });
    await waitFor(() => runsOf(stream).length === 2 && runner.blocked('t') === 1, 10_000, 'the continuous run after unpausing');
    expect(runsOf(stream)[1]!.trigger).toBe('CONTINUOUS');
  });

  it('keeps one run of a continuous job and restarts a failed one with an exponential backoff', async () => {
    const stream = job({ continuous: { pause_status: 'UNPAUSED' } }, 'fail');
    const [first] = await settled(stream, 1);
    expect(first).toMatchObject({ trigger: 'CONTINUOUS', state: { result_state: 'FAILED' } });
    clock.advance(9_999);
    expect(runsOf(stream)).toHaveLength(1);
    clock.advance(1);
    const second = (await settled(stream, 2))[1]!;
    expect(second.trigger).toBe('CONTINUOUS_RESTART');
    // Second consecutive failure: 20 s.
    clock.advance(19_999);
    expect(runsOf(stream)).toHaveLength(2);
    clock.advance(1);
    await settled(stream, 3);
  });

  it('a continuous run that is running stays the only one; a paused continuous job starts nothing', async () => {
    runner.hold('t');
    const stream = job({ continuous: { pause_status: 'UNPAUSED' } });
    const paused = job({ continuous: { pause_status: 'PAUSED' } });
    await waitFor(() => runner.blocked('t') === 1, 10_000, 'the continuous run to start');
    clock.advance(3600_000);
    expect(runsOf(stream)).toHaveLength(1);
    expect(runsOf(paused)).toHaveLength(0);
    // When it ends (successfully), the next run starts at once.
    runner.release('t');
    runner.hold('t');
    await waitFor(() => runsOf(stream).length === 2 && runner.blocked('t') === 1, 10_000, 'the next continuous run');
    expect(runsOf(stream).map((r) => r.trigger)).toEqual(['CONTINUOUS', 'CONTINUOUS_RESTART']);
    // Left held: closing the engine cancels it without a restart.
  });
});
