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
      outcome: (req) => (req.taskKey === 'bronze' && req.parameters['source'] === 'apod' && ++bronzeRuns === 1 ? 'RUNNER_ERROR' : 'SUCCESS'),
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
    // One Databricks run, repaired; its record is on attempt 2.
    const runs = await databricksRuns(stack);
    expect(runs).toHaveLength(1);
    expect(s.records.map((r) => [r.state, r.attempt, r.databricksRunId])).toEqual([['succeeded', 2, runs[0]!.runId]]);
    const failedFirst = stack.runner.executions.filter((e) => e.taskKey === 'bronze').map((e) => e.result);
    expect(failedFirst).toEqual(['RUNNER_ERROR', 'SUCCESS']);
  });
});
