import { resolve } from 'node:path';
import { startFaultStack, type FaultStack } from './support/faultStack';
import { landFiles } from './support/files';
import { databricksRuns, settle, summary, violations } from './support/ledger';
import { ScriptedRunner } from './support/runner';

jest.setTimeout(120_000);

/**
 * Runs that fail in Databricks. A transient failure (INTERNAL_ERROR, which the catalog retries by repair) must end
 * in the same Databricks run succeeding, each file still run once. (A run that fails for good will be parked on
 * run-failures and dead-lettered there with reason RunFailed; the ledger already counts that queue's dead letters,
 * so that scenario is this one with `outcome` failing every attempt and an expectation on the dead letter.)
 */
describe('faults: failing Databricks runs', () => {
  const repoRoot = resolve(__dirname, '..', '..');
  let stack: FaultStack;
  let bronzeRuns = 0;

  beforeAll(async () => {
    const runner = new ScriptedRunner({
      durationMs: () => 300,
      // The first bronze task breaks the runner (INTERNAL_ERROR); the repair's re-run succeeds.
      // donki's notebook always fails (CLIENT_ERROR: never retried).
      outcome: (req) =>
        req.parameters['source'] === 'donki'
          ? 'FAILED'
          : req.taskKey === 'bronze' && req.parameters['source'] === 'apod' && ++bronzeRuns === 1
            ? 'RUNNER_ERROR'
            : 'SUCCESS',
    });
    stack = await startFaultStack({ repoRoot, runner });
    stack.watcher.start();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('a run failing with INTERNAL_ERROR is repaired and succeeds as the same Databricks run', async () => {
    const files = await landFiles(stack, 'apod', 8, 'repair');
    const s = await settle(stack, { expectedFiles: files.length, timeoutMs: 60_000, scope: ['apod'] });
    const v = violations(s);
    if (v.length) console.log(summary(s));
    expect(v).toEqual([]);
    expect(s.settled).toBe(true);
    expect(bronzeRuns).toBeGreaterThanOrEqual(2);
    // The failed run was repaired, not run anew: one Databricks run per Orbiter run, and the run whose bronze task
    // broke is on attempt 2 (the burst may span two 1 s coalescing windows, hence one or two runs).
    const runs = await databricksRuns(stack);
    expect(runs.map((r) => r.orbiterRunId).sort()).toEqual(s.records.map((r) => r.runId).sort());
    const broken = stack.runner.executions.find((e) => e.result === 'RUNNER_ERROR')!;
    const repaired = s.records.find((r) => r.runId === broken.orbiterRunId)!;
    expect([repaired.state, repaired.attempt]).toEqual(['succeeded', 2]);
    expect(runs.find((r) => r.orbiterRunId === repaired.runId)!.runId).toBe(repaired.databricksRunId);
    const bronze = stack.runner.executions.filter((e) => e.taskKey === 'bronze' && e.orbiterRunId === repaired.runId).map((e) => e.result);
    expect(bronze).toEqual(['RUNNER_ERROR', 'SUCCESS']);
  });

  it('a run that fails for good ends in the dead-letter queue of run-failures with its reason, each file once', async () => {
    const files = await landFiles(stack, 'donki', 6, 'fails');
    const s = await settle(stack, { expectedFiles: files.length, timeoutMs: 60_000, scope: ['donki'] });
    const v = violations(s);
    if (v.length) console.log(summary(s));
    expect(v).toEqual([]);
    expect(s.settled).toBe(true);
    // One dead letter per failed run (the burst may span two 1 s windows), carrying that run's files.
    expect(s.records.length).toBeGreaterThanOrEqual(1);
    for (const r of s.records) expect([r.state, r.terminationType]).toEqual(['failed', 'CLIENT_ERROR']);
    const parked = s.deadLetters.filter((d) => d.queue === 'run-failures');
    expect(parked.map((d) => (d.body as { runId?: string }).runId).sort()).toEqual(s.records.map((r) => r.runId).sort());
    for (const d of parked) {
      expect(d).toMatchObject({ reason: 'RunFailed', body: expect.objectContaining({ schema: 'orbiter.run-request', origin: 'retry' }) });
      expect(d.description).toMatch(/CLIENT_ERROR is not retried/);
    }
    expect(parked.flatMap((d) => d.files).sort()).toEqual(files.map((f) => f.key).sort());
  });
});
