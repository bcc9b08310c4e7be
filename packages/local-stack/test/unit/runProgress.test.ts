import type { RunRecord } from 'orbiter/shared/runs/runStore';
import { ProgressReader, ProgressView, rowsWritten, waitingFor, type RunsReader } from '../../src/runProgress';

const record = (over: Partial<RunRecord>): RunRecord => ({
  runId: 'r1',
  dataset: 'neows',
  jobName: 'orbiter-neows-pipeline',
  state: 'running',
  origin: 'test',
  inputs: [],
  parameters: {},
  idempotencyToken: 't',
  correlationId: 'c',
  attempt: 1,
  requestedAt: new Date(0).toISOString(),
  startedAt: new Date(1_000).toISOString(),
  updatedAt: new Date(1_000).toISOString(),
  ...over,
});

describe('run progress', () => {
  it('reads rows written from the silver and gold exit values, nothing from others', () => {
    expect(rowsWritten(JSON.stringify({ stage: 'silver', entities: { a: { candidates: 3, rows: 9 }, b: { candidates: 4 } } }))).toBe(7);
    expect(rowsWritten(JSON.stringify({ stage: 'gold', tables: { t1: 5, t2: 6 } }))).toBe(11);
    expect(rowsWritten(JSON.stringify({ stage: 'bronze', files: { x: 2 } }))).toBeUndefined();
    expect(rowsWritten('not json')).toBeUndefined();
    expect(rowsWritten(undefined)).toBeUndefined();
  });

  it('shows each task with state, elapsed and rows; plain lines only on change, then says what it waits for', async () => {
    let now = 20_000;
    const outputs: number[] = [];
    const databricks: RunsReader = {
      getRun: async () => ({
        tasks: [
          { run_id: 11, task_key: 'bronze', state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' }, start_time: 1_000, end_time: 4_000 },
          { run_id: 12, task_key: 'silver', state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' }, start_time: 4_000, end_time: 6_000 },
          { run_id: 13, task_key: 'gold', state: { life_cycle_state: 'RUNNING' }, start_time: 6_000 },
        ],
      }),
      getRunOutput: async (id) => {
        outputs.push(id);
        return { notebook_output: { result: JSON.stringify(id === 12 ? { entities: { e: { candidates: 42 } } } : { files: {} }) } };
      },
    };
    const reader = new ProgressReader(databricks, () => now);
    const lines: string[] = [];
    const view = new ProgressView({ isTTY: false, write: (t) => lines.push(t) }, () => now, 15_000);
    const runs = [record({ databricksRunId: 7 })];

    view.show(await reader.read(runs), 19_000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/neows\s+running\s+19s\s+bronze success 3s \| silver success 2s 42 rows \| gold running 14s/);
    now += 5_000;
    view.show(await reader.read(runs), 24_000); // only elapsed time changed
    expect(lines).toHaveLength(1);
    now += 15_000;
    view.show(await reader.read(runs), 39_000);
    expect(lines[1]).toContain('waiting for notebook task neows/gold (34s)');
    expect(outputs.sort()).toEqual([11, 12]); // each finished task's output is read once
  });

  it('redraws one block with a progress bar on a terminal', async () => {
    const writes: string[] = [];
    const view = new ProgressView({ isTTY: true, write: (t) => writes.push(t) });
    const runs = [
      {
        runId: 'r',
        dataset: 'apod',
        state: 'running',
        elapsedMs: 2_000,
        tasks: [
          { key: 'bronze', state: 'SUCCESS', elapsedMs: 1_000 },
          { key: 'silver', state: 'RUNNING', elapsedMs: 500 },
        ],
      },
    ];
    view.show(runs, 2_000);
    view.show(runs, 3_000);
    expect(writes[0]).toContain('[###############---------------] 1/2 tasks');
    expect(writes[1]!.startsWith('\x1b[2F')).toBe(true);
  });

  it('says it waits for the dispatcher before any run exists', () => {
    expect(waitingFor([])).toBe('waiting for the dispatcher to request the first Databricks run');
  });
});
