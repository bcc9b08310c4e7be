import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PatTokenProvider } from 'orbiter/shared/databricks/auth';
import { DatabricksJobsClient } from 'orbiter/shared/databricks/client';
import type { Job, Run } from 'orbiter/shared/databricks/schemas';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { ExitCode } from '../../src/cli/exitCodes';
import { parseSince } from '../../src/cli/optimize';
import { declaredCluster, runMetrics } from '../../src/optimize/collect';
import { localCluster, runCost } from '../../src/optimize/cost';
import { taskVolume, type ClusterSpec, type RunMetrics } from '../../src/optimize/metrics';
import { loadCostRates, parseCostRates, type CostRates } from '../../src/optimize/rates';
import { buildReport } from '../../src/optimize/report';

const REPO = join(__dirname, '..', '..', '..', '..');
const rates: CostRates = loadCostRates(join(REPO, 'config', 'cost-rates.json'));
// A rate table with round numbers, so expected figures can be worked out by hand.
const simple: CostRates = parseCostRates({
  version: 1,
  currency: 'USD',
  computeKinds: { jobs: { dbuPrice: 0.5 }, jobsPhoton: { dbuPrice: 0.5, dbuMultiplier: 2 } },
  nodeTypes: { N4: { cores: 4, memoryGiB: 16, dbuPerHour: 1, vmPricePerHour: 0.2 } },
  spot: { vmDiscount: 0.5 },
  local: { nodeType: 'N4', computeKind: 'jobs', workers: 0 },
});
const cluster: ClusterSpec = {
  basis: 'declared',
  nodeType: 'N4',
  driverNodeType: 'N4',
  minWorkers: 1,
  maxWorkers: 4,
  spot: true,
  firstOnDemand: 1,
  computeKind: 'jobs',
};
const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-30T00:00:00Z');

function run(over: Partial<RunMetrics> & { tasks?: RunMetrics['tasks'] } = {}): RunMetrics {
  return {
    runId: 1,
    jobName: 'orbiter-neows-pipeline',
    trigger: 'ONE_TIME',
    resultState: 'SUCCESS',
    startTime: T0,
    durationMs: 60_000,
    queueMs: 0,
    setupMs: 10_000,
    tasks: [
      { taskKey: 'bronze', durationMs: 10_000, bytes: 2048 },
      { taskKey: 'silver', durationMs: 40_000, rows: 400 },
      { taskKey: 'gold', durationMs: 10_000, rows: 10 },
    ],
    cluster,
    ...over,
  };
}

describe('rate table', () => {
  it('the shipped config/cost-rates.json is valid and prices the bundle node type', () => {
    expect(rates.nodeTypes['Standard_D4ds_v5']).toBeDefined();
    expect(rates.computeKinds[rates.local.computeKind]).toBeDefined();
  });

  it('names every bad field', () => {
    expect(() =>
      parseCostRates({ version: 1, currency: 'USD', computeKinds: {}, nodeTypes: {}, spot: { vmDiscount: 2 }, local: {} }, 'x.json'),
    ).toThrow(/x\.json.*spot\.vmDiscount.*local\.nodeType/s);
    expect(() => parseCostRates({ ...simple, local: { nodeType: 'N9', computeKind: 'jobs', workers: 0 } })).toThrow(
      /local\.nodeType: N9 is not in nodeTypes/,
    );
  });
});

describe('runCost', () => {
  it('prices driver on demand, workers on spot, autoscale at min..max workers', () => {
    const c = runCost(run({ durationMs: HOUR }), simple);
    // low: 1 driver + 1 worker = 2 DBU → 1.00 + VM 0.2 + 0.1 = 1.30; high: 5 DBU → 2.50 + VM 0.2 + 4 × 0.1 = 3.10
    expect(c.dbuLow).toBeCloseTo(2);
    expect(c.dbuHigh).toBeCloseTo(5);
    expect(c.costLow).toBeCloseTo(1.3);
    expect(c.costHigh).toBeCloseTo(3.1);
  });

  it('uses observed workers when known, the Photon multiplier, and on-demand workers without spot', () => {
    const observed = runCost(run({ durationMs: HOUR, cluster: { ...cluster, observedMaxWorkers: 2 } }), simple);
    expect(observed.costLow).toBeCloseTo(observed.costHigh);
    expect(observed.dbuLow).toBeCloseTo(3);
    const photon = runCost(run({ durationMs: HOUR, cluster: { ...cluster, computeKind: 'jobsPhoton', spot: false, maxWorkers: 1 } }), simple);
    expect(photon.dbuHigh).toBeCloseTo(4); // (1 + 1) × 2
    expect(photon.costHigh).toBeCloseTo(4 * 0.5 + 0.4);
  });

  it('prices local emulator runs as rates.local and says so', () => {
    const c = runCost(run({ durationMs: HOUR, cluster: undefined }), simple);
    expect(c.basis).toBe('local');
    expect(c.costHigh).toBeCloseTo(0.5 + 0.2);
    expect(localCluster(simple).maxWorkers).toBe(0);
  });

  it('fails clearly on a node type without a rate', () => {
    expect(() => runCost(run({ cluster: { ...cluster, nodeType: 'Standard_X' } }), simple)).toThrow(/Standard_X has no rate/);
  });
});

describe('taskVolume (notebook exit values)', () => {
  it.each([
    ['bronze', { stage: 'bronze', files: { neows_feed: 2 }, bytes_read: 5000 }, { bytes: 5000 }],
    [
      'silver',
      { stage: 'silver', entities: { a: { candidates: 7, quarantined: 1, rows: 90 }, b: { candidates: 2, quarantined: 0, rows: 5 } } },
      { rows: 10 },
    ],
    ['gold', { stage: 'gold', tables: { x: 3, y: 4 } }, { rows: 7 }],
    ['maintenance', { stage: 'table_maintenance', totals: { bytes_processed: 123 }, tables: [] }, { bytes: 123 }],
  ])('%s', (_name, value, expected) => expect(taskVolume(JSON.stringify(value))).toEqual(expected));

  it('ignores absent, non-JSON and foreign outputs', () => {
    expect(taskVolume(undefined)).toEqual({});
    expect(taskVolume('not json')).toEqual({});
    expect(taskVolume('[1,2]')).toEqual({});
  });
});

describe('buildReport', () => {
  const since = new Date(T0);
  const until = new Date(T0 + 24 * HOUR);

  it('computes per-job and per-task figures', () => {
    const runs = [
      run({ runId: 1, queueMs: 0 }),
      run({ runId: 2, startTime: T0 + HOUR, queueMs: 4000, durationMs: 120_000 }),
      run({ runId: 3, startTime: T0 + 2 * HOUR, resultState: 'FAILED' }),
    ];
    const r = buildReport({ runs, rates: simple, since, until }, until);
    expect(r.estimate).toBe(true);
    const job = r.jobs[0]!;
    expect(job).toMatchObject({
      jobName: 'orbiter-neows-pipeline',
      runs: 3,
      succeeded: 2,
      runsPerDay: 3,
      durationP50Ms: 60_000,
      durationMaxMs: 120_000,
      queueP50Ms: 0,
      queueMaxMs: 4000,
      rows: 1230,
      bytes: 6144,
    });
    expect(job.rowsPerSecond).toBeCloseTo(1230 / 240, 1);
    // three runs of 1, 2 and 1 minutes = 4/60 h; low 2 DBU/h, high 5 DBU/h
    expect(job.costTotal.low).toBeCloseTo((4 / 60) * 1.3, 4);
    expect(job.costPerDay.high).toBeCloseTo((4 / 60) * 3.1, 4);
    const silver = job.tasks.find((t) => t.taskKey === 'silver')!;
    expect(silver).toMatchObject({ runs: 3, p50Ms: 40_000, share: 0.667, rows: 1200, rowsPerSecond: 10 });
  });

  it('recommends on a dominating task, with its evidence', () => {
    const runs = [1, 2, 3].map((i) => run({ runId: i, startTime: T0 + i * 6 * HOUR }));
    const recs = buildReport({ runs, rates: simple, since, until }, until).recommendations;
    const dominant = recs.find((x) => x.kind === 'dominant-task')!;
    expect(dominant.message).toMatch(/silver takes 67%/);
    expect(dominant.evidence[0]).toMatch(/silver p50 40 s/);
  });

  it('flags scheduled runs on no new data', () => {
    const empty = {
      tasks: [
        { taskKey: 'bronze', durationMs: 5000, bytes: 0 },
        { taskKey: 'silver', durationMs: 5000, rows: 0 },
      ],
    };
    const runs = [1, 2, 3].map((i) => run({ runId: i, trigger: 'PERIODIC', startTime: T0 + i * 6 * HOUR, ...empty }));
    const rec = buildReport({ runs, rates: simple, since, until }, until).recommendations.find((x) => x.kind === 'no-new-data')!;
    expect(rec.message).toMatch(/3 scheduled runs found no new data/);
    expect(rec.evidence[0]).toBe('3 of 3 runs read 0 bytes and merged 0 rows');
  });

  it('suggests a wider coalescing window for bursts of runs, and queue time', () => {
    const runs = [0, 1, 2, 3].map((i) => run({ runId: i, startTime: T0 + i * 90_000, queueMs: 50_000 }));
    const r = buildReport({ runs, rates: simple, since, until, coalescingWindows: { 'orbiter-neows-pipeline': 60 } }, until);
    const rec = r.recommendations.find((x) => x.kind === 'coalescing-window')!;
    expect(rec.message).toMatch(/coalescingWindowSeconds of 120 \(now 60\)/);
    expect(rec.evidence[1]).toBe('3 of 3 gaps within 600 s');
    expect(r.recommendations.map((x) => x.kind)).toContain('queue-time');
  });

  it('flags an autoscale ceiling never reached only with observed worker counts', () => {
    const runs = [1, 2, 3].map((i) => run({ runId: i, startTime: T0 + i * 6 * HOUR, cluster: { ...cluster, observedMaxWorkers: 2 } }));
    const rec = buildReport({ runs, rates: simple, since, until }, until).recommendations.find((x) => x.kind === 'autoscale-ceiling')!;
    expect(rec.message).toMatch(/ceiling 4 was never reached: lower max_workers to 2/);
    const unobserved = buildReport({ runs: runs.map((x) => ({ ...x, cluster })), rates: simple, since, until }, until);
    expect(unobserved.recommendations.map((x) => x.kind)).not.toContain('autoscale-ceiling');
    expect(unobserved.notes.join(' ')).toMatch(/Observed worker counts are not collected/);
  });

  it('recommends nothing below the evidence threshold', () => {
    const r = buildReport({ runs: [run()], rates: simple, since, until }, until);
    expect(r.recommendations).toEqual([]);
  });
});

describe('Jobs API → run metrics', () => {
  const job: Job = {
    job_id: 7,
    settings: {
      name: 'orbiter-neows-pipeline',
      job_clusters: [
        {
          job_cluster_key: 'pipeline',
          new_cluster: {
            node_type_id: 'Standard_D4ds_v5',
            driver_node_type_id: 'Standard_D4ds_v5',
            autoscale: { min_workers: 1, max_workers: 8 },
            azure_attributes: { availability: 'SPOT_WITH_FALLBACK_AZURE', first_on_demand: 1 },
          },
        },
      ],
    },
  };
  const apiRun: Run = {
    job_id: 7,
    run_id: 100,
    trigger: 'PERIODIC',
    state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' },
    start_time: T0,
    setup_duration: 30_000,
    execution_duration: 90_000,
    cleanup_duration: 5_000,
    queue_duration: 2_000,
    tasks: [
      { run_id: 101, task_key: 'bronze', execution_duration: 20_000, state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' } },
      { run_id: 102, task_key: 'silver', execution_duration: 60_000, state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' } },
    ],
  };

  it('reads the declared cluster and the task outputs', () => {
    expect(declaredCluster(job)).toEqual({
      basis: 'declared',
      nodeType: 'Standard_D4ds_v5',
      driverNodeType: 'Standard_D4ds_v5',
      minWorkers: 1,
      maxWorkers: 8,
      spot: true,
      firstOnDemand: 1,
      computeKind: 'jobs',
    });
    expect(declaredCluster({ job_id: 1, settings: { name: 'x' } })).toBeUndefined();
    const m = runMetrics(
      apiRun,
      'orbiter-neows-pipeline',
      new Map([[101, JSON.stringify({ stage: 'bronze', bytes_read: 10 })]]),
      declaredCluster(job),
    );
    expect(m).toMatchObject({ runId: 100, trigger: 'PERIODIC', durationMs: 125_000, queueMs: 2_000, setupMs: 30_000 });
    expect(m.tasks).toEqual([
      { taskKey: 'bronze', durationMs: 20_000, bytes: 10 },
      { taskKey: 'silver', durationMs: 60_000 },
    ]);
  });

  describe('orbiter optimize report against a Jobs API server', () => {
    let server: Server;
    let host: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        res.setHeader('content-type', 'application/json');
        if (url.pathname === '/api/2.2/jobs/runs/list') {
          expect(url.searchParams.get('completed_only')).toBe('true');
          expect(url.searchParams.get('expand_tasks')).toBe('true');
          return res.end(JSON.stringify({ runs: [apiRun], has_more: false }));
        }
        if (url.pathname === '/api/2.2/jobs/get') return res.end(JSON.stringify(job));
        if (url.pathname === '/api/2.2/jobs/runs/get-output') {
          const id = Number(url.searchParams.get('run_id'));
          const result =
            id === 101 ? { stage: 'bronze', bytes_read: 4096 } : { stage: 'silver', entities: { neo: { candidates: 500, quarantined: 0 } } };
          return res.end(JSON.stringify({ notebook_output: { result: JSON.stringify(result) } }));
        }
        res.statusCode = 404;
        res.end(JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: 'no' }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    function io(): CliIO & { lines: string[]; errors: string[] } {
      const lines: string[] = [];
      const errors: string[] = [];
      return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), env: {}, cwd: REPO };
    }
    const client = (): DatabricksJobsClient => new DatabricksJobsClient({ host, tokenProvider: new PatTokenProvider('t') });
    const now = () => new Date(T0 + 12 * HOUR);

    it('prints the report as JSON with estimates from the rate table', async () => {
      const o = io();
      const code = await runCli(['optimize', 'report', '--json', '--since', '1d'], o, { jobsClient: client(), now });
      expect(o.errors).toEqual([]);
      expect(code).toBe(ExitCode.ok);
      const report = JSON.parse(o.lines.join('\n')) as {
        estimate: boolean;
        jobs: { rows: number; bytes: number; cluster: ClusterSpec; costPerRun: { low: number } }[];
      };
      expect(report.estimate).toBe(true);
      expect(report.jobs[0]).toMatchObject({ rows: 500, bytes: 4096, cluster: { maxWorkers: 8, spot: true } });
      expect(report.jobs[0]!.costPerRun.low).toBeGreaterThan(0);
    });

    it('prints a table labelled as an estimate', async () => {
      const o = io();
      expect(await runCli(['optimize', 'report', '--since', '2026-11-29T00:00:00Z'], o, { jobsClient: client(), now })).toBe(ExitCode.ok);
      expect(o.lines[1]).toMatch(/^ESTIMATE from the rate table/);
      expect(o.lines.join('\n')).toMatch(/orbiter-neows-pipeline\s+1\/1/);
    });

    it('rejects a bad --since and a missing rate table with usage errors', async () => {
      const o = io();
      expect(await runCli(['optimize', 'report', '--since', 'yesterday'], o, { jobsClient: client(), now })).toBe(ExitCode.usage);
      expect(o.errors.join('\n')).toMatch(/--since expects an ISO time or a duration/);
      const p = io();
      expect(await runCli(['optimize', 'report', '--rates', 'nope.json'], p, { jobsClient: client(), now })).toBe(ExitCode.usage);
      expect(p.errors.join('\n')).toMatch(/cannot read cost rates .*nope\.json/);
    });
  });

  it('parses relative and absolute --since', () => {
    const now = new Date(T0);
    expect(parseSince('2d', now).getTime()).toBe(T0 - 2 * 86_400_000);
    expect(parseSince('90m', now).getTime()).toBe(T0 - 90 * 60_000);
    expect(parseSince('2026-11-01T00:00:00Z', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
});
