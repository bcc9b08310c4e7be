import { resolve } from 'node:path';
import { startFaultStack, type FaultStack } from './support/faultStack';
import { landFiles } from './support/files';
import { expectExactlyOnce } from './support/ledger';
import { ScriptedRunner } from './support/runner';
import { serverError, throttled, type TapAction } from './support/tapProxy';

jest.setTimeout(180_000);

/**
 * The Databricks Jobs API misbehaving between the dispatcher and the workspace: 429 and 500 storms (500s both before
 * and after the workspace processed the call), dropped connections, a full outage, and a run-now that times out after
 * the run was created. Idempotency tokens must turn every retry into the same run.
 */
describe('faults: Jobs API storms and timeouts', () => {
  const repoRoot = resolve(__dirname, '..', '..');
  let stack: FaultStack;

  beforeAll(async () => {
    stack = await startFaultStack({ repoRoot, runner: new ScriptedRunner({ durationMs: () => 500 }) });
    stack.watcher.start();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('429 and 500 storms, connections dropped after run-now was processed, and a run-now answer held past the client timeout', async () => {
    const seen = new Map<string, number>();
    const injected = { runNow429: 0, runNow500After: 0, runNowDropAfter: 0, get429: 0, get500: 0, runNowTimeout: 0 };
    stack.jobsTap.setRule((r): TapAction | undefined => {
      const op = r.path.split('/api/2.2/jobs/')[1] ?? r.path;
      // epic's first run-now: the workspace creates the run, the answer comes after the client's 30 s timeout, and the
      // client retries with the same idempotency token (runs alongside the storm to keep the suite short).
      if (op === 'run-now' && injected.runNowTimeout === 0 && r.body.toString().includes('"source":"epic"')) {
        injected.runNowTimeout++;
        return { kind: 'after', then: () => ({ kind: 'hold', ms: 32_000 }) };
      }
      const n = (seen.get(op) ?? 0) + 1;
      seen.set(op, n);
      if (op === 'run-now') {
        if (n % 4 === 1) return (injected.runNow429++, throttled(1));
        // The workspace created (or found) the run, but the caller sees a 500 / a reset connection.
        if (n % 4 === 2)
          return (
            injected.runNow500After++,
            { kind: 'after', then: () => ({ kind: 'respond', status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'injected' } }) }
          );
        if (n % 4 === 3) return (injected.runNowDropAfter++, { kind: 'after', then: () => ({ kind: 'drop' }) });
        return undefined;
      }
      if (op === 'runs/get') {
        if (n % 3 === 1) return (injected.get429++, throttled(1));
        if (n % 3 === 2) return (injected.get500++, serverError());
      }
      if (op === 'jobs/list' && n % 2 === 1) return throttled(1);
      return undefined;
    });
    try {
      const files = [
        ...(await landFiles(stack, 'apod', 10, 'storm')),
        ...(await landFiles(stack, 'neows', 10, 'storm')),
        ...(await landFiles(stack, 'eonet', 10, 'storm')),
        ...(await landFiles(stack, 'epic', 6, 'timeout')),
      ];
      await expectExactlyOnce(stack, ['apod', 'neows', 'eonet', 'epic'], files.length, 90_000);
      // The storm really hit every kind of call.
      for (const [k, v] of Object.entries(injected)) expect([k, v > 0]).toEqual([k, true]);
    } finally {
      stack.jobsTap.setRule(undefined);
    }
  });

  it('a Jobs API outage of several seconds (every call 503)', async () => {
    let outage = true;
    stack.jobsTap.setRule(() =>
      outage
        ? {
            kind: 'respond',
            status: 503,
            headers: { 'retry-after': '1' },
            body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'injected outage' },
          }
        : undefined,
    );
    const files = await landFiles(stack, 'donki', 10, 'outage');
    // The outage lasts until the dispatcher has been refused a few times, and at least 6 s.
    const started = Date.now();
    while (outage) {
      const refused = stack.jobsTap.calls.filter((c) => c.at >= started && c.injected).length;
      if (refused >= 5 && Date.now() - started >= 6000) outage = false;
      else if (Date.now() - started > 60_000) throw new Error(`the dispatcher called the Jobs API only ${refused} times in 60 s`);
      else await new Promise((r) => setTimeout(r, 200));
    }
    stack.jobsTap.setRule(undefined);
    await expectExactlyOnce(stack, ['donki'], files.length, 60_000);
  });
});
