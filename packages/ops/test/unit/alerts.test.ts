import { resolve } from 'node:path';
import { sourceIds } from 'orbiter/shared/config';
import { createAlertEvaluator, localEvaluators, loadAlertRules, isoDurationMs, type AlertRule } from '../../src/alerts';
import type { Logger } from 'orbiter/shared/logger';
import { FakeMonitoringData, minutesBefore, run } from './fakes';

const NOW = '2026-11-24T10:00:00.000Z';
const rules = loadAlertRules(resolve(__dirname, '../../../../infra/alerts/alert-rules.json'));
const only = (name: string): AlertRule[] => rules.filter((r) => r.name === name);

function setup(ruleName: string, sources: readonly string[] = ['neows']) {
  const data = new FakeMonitoringData();
  const lines: string[] = [];
  const logger: Logger = { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(`ERROR ${m}`) };
  const ev = createAlertEvaluator({ data, rules: only(ruleName), sources, now: () => new Date(NOW), logger });
  return { data, ev, lines };
}

describe('alert rules', () => {
  it('every rule in infra/alerts/alert-rules.json has a local evaluator', () => {
    expect(rules.map((r) => r.name).sort()).toEqual(Object.keys(localEvaluators).sort());
  });

  it('an unknown rule without a local evaluator is an error at start', () => {
    const extra = { ...rules[0]!, name: 'brand-new-rule' };
    expect(() => createAlertEvaluator({ data: new FakeMonitoringData(), rules: [...rules, extra] })).toThrow(/brand-new-rule/);
  });

  it('parses the ISO durations the rules use', () => {
    expect(isoDurationMs('PT15M')).toBe(900_000);
    expect(isoDurationMs('P2D')).toBe(172_800_000);
    expect(isoDurationMs('PT1H')).toBe(3_600_000);
    expect(() => isoDurationMs('P1M')).toThrow();
  });
});

describe('failed-run', () => {
  it('fires for a run that failed inside the window, per dataset, and prints it', async () => {
    const { data, ev, lines } = setup('failed-run');
    data.runList.push(run({ runId: 'r-fail', state: 'failed', resultState: 'FAILED', endedAt: minutesBefore(NOW, 5) }));
    data.runList.push(run({ runId: 'r-ok', state: 'succeeded', resultState: 'SUCCESS', endedAt: minutesBefore(NOW, 5) }));
    const alerts = await ev.evaluate();
    expect(alerts).toEqual([expect.objectContaining({ rule: 'failed-run', dimensions: { dataset: 'neows' }, value: 1, severity: 1 })]);
    expect(alerts[0]!.message).toContain('r-fail');
    expect(lines.some((l) => l.startsWith('ALERT sev1'))).toBe(true);
    expect(ev.current()).toHaveLength(1);
  });

  it('fires on an OrbiterRunCompleted telemetry event with a non-SUCCESS state', async () => {
    const { data, ev } = setup('failed-run');
    data.records.push({
      ts: minutesBefore(NOW, 1),
      type: 'event',
      name: 'OrbiterRunCompleted',
      dims: { resultState: 'TIMEDOUT', dataset: 'apod', runId: 'x' },
    });
    expect(await ev.evaluate()).toEqual([expect.objectContaining({ dimensions: { dataset: 'apod' }, value: 1 })]);
  });

  it("a caller's cancel (USER_CANCELED) is not a failure; a platform cancel (CANCELED, e.g. a timeout) still is", async () => {
    const { data, ev, lines } = setup('failed-run');
    data.runList.push(
      run({ runId: 'c', state: 'cancelled', resultState: 'CANCELED', terminationCode: 'USER_CANCELED', endedAt: minutesBefore(NOW, 1) }),
    );
    data.records.push({
      ts: minutesBefore(NOW, 1),
      type: 'event',
      name: 'OrbiterRunCompleted',
      dims: { resultState: 'CANCELED', terminationCode: 'USER_CANCELED', dataset: 'neows', runId: 'c' },
    });
    expect(await ev.evaluate()).toEqual([]);
    expect(lines).toEqual([]);
    data.records.push({
      ts: minutesBefore(NOW, 1),
      type: 'event',
      name: 'OrbiterRunCompleted',
      dims: { resultState: 'CANCELED', terminationCode: 'CANCELED', dataset: 'neows', runId: 'timed-out' },
    });
    const alerts = await ev.evaluate();
    expect(alerts).toEqual([expect.objectContaining({ dimensions: { dataset: 'neows' }, value: 1 })]);
    expect(alerts[0]!.message).toContain('timed-out (CANCELED)');
  });

  it('announces fired and resolved alerts as readable lines when given a printer', async () => {
    const data = new FakeMonitoringData();
    const printed: string[] = [];
    let now = NOW;
    const ev = createAlertEvaluator({ data, rules: only('failed-run'), now: () => new Date(now), announce: (l) => printed.push(l) });
    data.runList.push(run({ runId: 'r-fail', state: 'failed', resultState: 'FAILED', endedAt: minutesBefore(NOW, 5) }));
    await ev.evaluate();
    now = '2026-11-24T11:00:00.000Z'; // the failure left the 15-minute window
    await ev.evaluate();
    expect(printed).toEqual([
      'ALERT sev1 Orbiter: Databricks run failed: 1 failed run(s) of neows in the last 15m: r-fail (FAILED) [dataset=neows]',
      'RESOLVED Orbiter: Databricks run failed [dataset=neows]',
    ]);
    expect(printed.every((l) => !l.startsWith('{'))).toBe(true);
  });

  it('stays quiet for successes, cancelled runs and failures older than the window', async () => {
    const { data, ev, lines } = setup('failed-run');
    data.runList.push(run({ runId: 'old', state: 'failed', endedAt: minutesBefore(NOW, 20) }));
    data.runList.push(run({ runId: 'c', state: 'cancelled', endedAt: minutesBefore(NOW, 1) }));
    data.records.push({
      ts: minutesBefore(NOW, 1),
      type: 'event',
      name: 'OrbiterRunCompleted',
      dims: { resultState: 'SUCCESS', dataset: 'neows', runId: 'ok' },
    });
    expect(await ev.evaluate()).toEqual([]);
    expect(lines).toEqual([]);
  });
});

describe('dead-lettered-message', () => {
  it('fires while a dead-letter queue holds messages', async () => {
    const { data, ev } = setup('dead-lettered-message');
    data.depths.push({
      entity: 'run-requests',
      active: 0,
      deadLetters: 2,
      samples: [{ messageId: 'm1', reason: 'MaxDeliveryCountExceeded' }],
      capped: false,
    });
    data.depths.push({ entity: 'run-status', active: 3, deadLetters: 0, samples: [], capped: false });
    const alerts = await ev.evaluate();
    expect(alerts).toEqual([expect.objectContaining({ dimensions: { entity: 'run-requests' }, value: 2 })]);
    expect(alerts[0]!.message).toContain('MaxDeliveryCountExceeded');
  });

  it('fires on an OrbiterMessageDeadLettered event in the window', async () => {
    const { data, ev } = setup('dead-lettered-message');
    data.records.push({
      ts: minutesBefore(NOW, 3),
      type: 'event',
      name: 'OrbiterMessageDeadLettered',
      dims: { entity: 'eventgrid', reason: 'expired' },
    });
    expect(await ev.evaluate()).toEqual([expect.objectContaining({ dimensions: { entity: 'eventgrid' }, value: 1 })]);
  });

  it('stays quiet with empty dead-letter queues and only old events; resolves when the queue is drained', async () => {
    const { data, ev, lines } = setup('dead-lettered-message');
    data.records.push({ ts: minutesBefore(NOW, 30), type: 'event', name: 'OrbiterMessageDeadLettered', dims: { entity: 'run-status', reason: 'x' } });
    data.depths.push({ entity: 'run-requests', active: 5, deadLetters: 0, samples: [], capped: false });
    expect(await ev.evaluate()).toEqual([]);
    data.depths[0] = { entity: 'run-requests', active: 0, deadLetters: 1, samples: [], capped: false };
    expect(await ev.evaluate()).toHaveLength(1);
    data.depths[0] = { entity: 'run-requests', active: 0, deadLetters: 0, samples: [], capped: false };
    expect(await ev.evaluate()).toEqual([]);
    expect(lines.some((l) => l.startsWith('RESOLVED'))).toBe(true);
  });
});

describe('stale-source', () => {
  it('fires for a source whose last successful ingestion is older than the threshold', async () => {
    const { data, ev } = setup('stale-source', ['neows', 'apod']);
    data.marks.push({ source: 'neows', stream: 'feed', nextStart: '2026-11-20', updatedAt: minutesBefore(NOW, 800) });
    data.records.push({ ts: minutesBefore(NOW, 10), type: 'event', name: 'OrbiterIngestCompleted', dims: { source: 'apod', outcome: 'success' } });
    const alerts = await ev.evaluate();
    expect(alerts).toEqual([expect.objectContaining({ rule: 'stale-source', dimensions: { source: 'neows' }, value: 800 })]);
  });

  it('a source never ingested is stale for the whole window', async () => {
    const { ev } = setup('stale-source', ['cmr']);
    expect(await ev.evaluate()).toEqual([expect.objectContaining({ dimensions: { source: 'cmr' }, value: 2880 })]);
  });

  it('stays quiet when every source is fresh (watermark or success event); failures do not count as fresh', async () => {
    const { data, ev } = setup('stale-source', ['neows', 'apod']);
    data.marks.push({ source: 'neows', stream: 'feed', nextStart: '2026-11-24', updatedAt: minutesBefore(NOW, 60) });
    data.records.push({ ts: minutesBefore(NOW, 700), type: 'event', name: 'OrbiterIngestCompleted', dims: { source: 'apod', outcome: 'success' } });
    data.records.push({ ts: minutesBefore(NOW, 1), type: 'event', name: 'OrbiterIngestCompleted', dims: { source: 'neows', outcome: 'failure' } });
    expect(await ev.evaluate()).toEqual([]);
  });

  it('checks every source by default', async () => {
    const ev = createAlertEvaluator({ data: new FakeMonitoringData(), rules: only('stale-source'), now: () => new Date(NOW) });
    expect((await ev.evaluate()).map((a) => a.dimensions['source']).sort()).toEqual([...sourceIds].sort());
  });
});

describe('dispatch-latency', () => {
  it('fires when the average landed → submitted latency in the window is above the goal', async () => {
    const { data, ev } = setup('dispatch-latency');
    data.runList.push(run({ runId: 'slow', firstLandedAt: minutesBefore(NOW, 16), dispatchedAt: minutesBefore(NOW, 2) }));
    data.records.push({
      ts: minutesBefore(NOW, 1),
      type: 'histogram',
      name: 'orbiter_dispatch_latency_ms',
      value: 900_000,
      dims: { dataset: 'apod', runId: 'a1' },
    });
    const alerts = await ev.evaluate();
    expect(alerts.map((a) => [a.dimensions['dataset'], a.value]).sort()).toEqual([
      ['apod', 900_000],
      ['neows', 840_000],
    ]);
  });

  it('stays quiet when the average is within the goal or the slow dispatch is outside the window', async () => {
    const { data, ev } = setup('dispatch-latency');
    data.runList.push(run({ runId: 'fast', firstLandedAt: minutesBefore(NOW, 3), dispatchedAt: minutesBefore(NOW, 2) }));
    data.runList.push(
      run({ runId: 'old-slow', requestedAt: minutesBefore(NOW, 120), firstLandedAt: minutesBefore(NOW, 120), dispatchedAt: minutesBefore(NOW, 60) }),
    );
    // One slow and one fast sample average below 600 s.
    data.records.push({
      ts: minutesBefore(NOW, 1),
      type: 'histogram',
      name: 'orbiter_dispatch_latency_ms',
      value: 700_000,
      dims: { dataset: 'apod', runId: 'a1' },
    });
    data.records.push({
      ts: minutesBefore(NOW, 1),
      type: 'histogram',
      name: 'orbiter_dispatch_latency_ms',
      value: 100_000,
      dims: { dataset: 'apod', runId: 'a2' },
    });
    expect(await ev.evaluate()).toEqual([]);
  });
});

describe('evaluator robustness', () => {
  it('concurrent evaluations print a new alert once', async () => {
    const { data, ev, lines } = setup('failed-run');
    data.runList.push(run({ runId: 'r', state: 'failed', endedAt: minutesBefore(NOW, 1) }));
    const results = await Promise.all([ev.evaluate(), ev.evaluate(), ev.evaluate()]);
    expect(results.map((r) => r.length)).toEqual([1, 1, 1]);
    expect(lines.filter((l) => l.startsWith('ALERT'))).toHaveLength(1);
  });

  it('a rule that cannot be evaluated keeps its firing alerts (unknown is not resolved)', async () => {
    const { data, ev, lines } = setup('dead-lettered-message');
    data.depths.push({ entity: 'run-requests', active: 0, deadLetters: 1, samples: [], capped: false });
    expect(await ev.evaluate()).toHaveLength(1);
    data.queues = async () => {
      throw new Error('bus down');
    };
    expect(await ev.evaluate()).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('RESOLVED'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('ALERT'))).toHaveLength(1);
  });

  it('one failing data source does not stop the other rules', async () => {
    const data = new FakeMonitoringData();
    data.queues = async () => {
      throw new Error('bus down');
    };
    data.runList.push(run({ runId: 'r', state: 'failed', endedAt: minutesBefore(NOW, 1) }));
    const errors: string[] = [];
    const ev = createAlertEvaluator({
      data,
      rules: [...only('dead-lettered-message'), ...only('failed-run')],
      now: () => new Date(NOW),
      logger: { debug() {}, info() {}, warn() {}, error: (m) => errors.push(m) },
    });
    expect((await ev.evaluate()).map((a) => a.rule)).toEqual(['failed-run']);
    expect(errors[0]).toContain('dead-lettered-message');
  });
});
