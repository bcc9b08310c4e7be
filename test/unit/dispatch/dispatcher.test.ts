import { handleControl } from '../../../shared/dispatch/control';
import { MAX_INPUTS_PER_RUN } from '../../../shared/dispatch/flush';
import { onJobNotification } from '../../../shared/dispatch/notifications';
import { idempotencyToken } from '../../../shared/runs/newRunRecord';
import { acceptRunRequest } from '../../../shared/dispatch/accept';
import type { ControlMessage } from '../../../shared/dispatch/messages';
import { OrbiterError } from '../../../shared/errors';
import { parseJobCatalog } from '../../../shared/catalog';
import { apiRun, fakeDeps, testCatalogInput, blobRequest, T0 } from '../../support/dispatchFakes';

/** Delivers every due control message (as the broker would) until none is left, advancing the clock. */
async function drain(deps: ReturnType<typeof fakeDeps>, now: { t: number }, onEach?: (m: ControlMessage) => void): Promise<void> {
  for (let guard = 0; guard < 1000; guard++) {
    const next = deps.scheduler.sent.sort((a, b) => a.at.getTime() - b.at.getTime()).shift();
    if (!next) return;
    now.t = Math.max(now.t, next.at.getTime());
    onEach?.(next.msg);
    await handleControl(next.msg, deps);
  }
  throw new Error('control loop did not settle');
}

describe('dispatcher', () => {
  it('coalesces a burst of 200 landed files into one run per job per window', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    for (let i = 0; i < 200; i++) await acceptRunRequest(blobRequest(i, T0 + i * 10), deps);
    for (let i = 0; i < 50; i++) await acceptRunRequest(blobRequest(i, T0 + i * 10, 'apod'), deps);
    expect(deps.scheduler.sent.filter((s) => s.msg.schema === 'orbiter.dispatch-flush')).toHaveLength(2);
    await handleControl(deps.scheduler.sent.shift()!.msg, deps);
    await handleControl(deps.scheduler.sent.shift()!.msg, deps);
    expect(deps.jobs.runNowCalls).toBe(2);
    const runs = [...deps.runs.rows.values()].map((r) => r.record);
    expect(runs.map((r) => [r.dataset, r.inputs.length]).sort()).toEqual([
      ['apod', 50],
      ['neows', 200],
    ]);
    const neows = runs.find((r) => r.dataset === 'neows')!;
    expect(neows.state).toBe('dispatched');
    expect(neows.databricksRunUrl).toMatch(/^http:\/\/dbx\/run\//);
    const params = deps.jobs.runs.get(neows.databricksRunId!)!.params!;
    expect(JSON.parse(params['input_manifest']!)).toEqual({ ref: { container: 'events', path: `manifests/neows/${neows.runId}.json` } }); // 200 paths exceed the parameter budget
    expect(params['orbiter_run_id']).toBe(neows.runId);
  });

  it('a request delivered three times starts one run', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    for (let i = 0; i < 3; i++) await acceptRunRequest(blobRequest(1), deps);
    const flushes = deps.scheduler.sent.filter((s) => s.msg.schema === 'orbiter.dispatch-flush');
    expect(flushes).toHaveLength(1);
    // Even if the broker delivered the flush three times too:
    for (let i = 0; i < 3; i++) await handleControl(flushes[0]!.msg, deps);
    expect(new Set([...deps.jobs.runs.values()].map((r) => r.run_id)).size).toBe(1);
    expect(deps.runs.rows.size).toBe(1);
  });

  it('a process killed between run-now and the record write still yields one Databricks run', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(7), deps);
    const flush = deps.scheduler.sent.shift()!.msg;
    deps.runs.failNextUpdate = true;
    await expect(handleControl(flush, deps)).rejects.toThrow('process killed');
    expect(deps.jobs.runs.size).toBe(1);
    // The run is already being polled: a record that later says dispatched always has a poll chain.
    expect(deps.scheduler.sent.map((x) => x.msg.schema)).toEqual(['orbiter.run-poll']);
    // The message was not completed, so it is delivered again.
    await handleControl(flush, deps);
    expect(deps.jobs.runs.size).toBe(1);
    expect(deps.jobs.runNowCalls).toBe(2);
    const rec = [...deps.runs.rows.values()][0]!.record;
    expect(rec.state).toBe('dispatched');
    expect(rec.idempotencyToken).toBe(idempotencyToken(rec.runId, 1));
    expect(rec.idempotencyToken).toHaveLength(64);
  });

  it('tracks a run to success with adaptive polling and emits one completion event', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    let polls = 0;
    const delays: number[] = [];
    let lastAt = now.t;
    await drain(deps, now, (m) => {
      if (m.schema !== 'orbiter.run-poll') return;
      polls++;
      delays.push(now.t - lastAt);
      lastAt = now.t;
      const id = m.databricksRunId;
      if (polls === 2) deps.jobs.set(id, 'RUNNING');
      if (polls === 6) deps.jobs.set(id, 'TERMINATED', 'SUCCESS');
    });
    const rec = [...deps.runs.rows.values()][0]!.record;
    expect(rec.state).toBe('succeeded');
    expect(rec.startedAt).toBeDefined();
    expect(delays.slice(1)).toEqual([1000, 2000, 2000, 4000, 4000]); // quick at first, slower later
    expect(deps.completions.written.size).toBe(1);
    const ev = [...deps.completions.published.values()][0]!;
    expect(ev).toMatchObject({
      event_version: 1,
      orbiter_run_id: rec.runId,
      result_state: 'SUCCESS',
      job_name: 'orbiter-neows-pipeline',
      dataset: 'neows',
      duration_ms: 60000,
      attempt: 1,
    });
    expect(ev.inputs).toEqual(rec.inputs.map((i) => ({ container: i.container, path: i.path, etag: i.etag })));
  });

  it('records the task graph when the run ends: states, durations, rows written and quarantined from each exit value', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    await drain(deps, now, (m) => {
      if (m.schema !== 'orbiter.run-poll') return;
      const run = deps.jobs.runs.get(m.databricksRunId)!;
      run.tasks = [
        { run_id: 901, task_key: 'bronze', state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' }, start_time: 1_000, end_time: 21_000 },
        {
          run_id: 902,
          task_key: 'silver',
          depends_on: [{ task_key: 'bronze' }],
          state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' },
          start_time: 21_000,
          end_time: 36_500,
        },
        { run_id: 903, task_key: 'gold', depends_on: [{ task_key: 'silver' }], state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' } },
      ];
      deps.jobs.outputs.set(902, {
        notebook_output: {
          result: JSON.stringify({
            stage: 'silver',
            entities: {
              solar_flares: { candidates: 40, quarantined: 2, rows: 90, reasons: { 'peakTime not a time': 2 } },
              cmes: { candidates: 5, quarantined: 1, rows: 5, reasons: { 'peakTime not a time': 1 } },
            },
          }),
        },
      });
      deps.jobs.outputs.set(903, {
        notebook_output: { result: JSON.stringify({ stage: 'gold', tables: { flare_class_monthly: 12, flare_storm_lag: 3 } }) },
      });
      // bronze's output is not readable (901 missing): the run still completes, that task just has no rows.
      deps.jobs.set(m.databricksRunId, 'TERMINATED', 'SUCCESS');
    });
    const rec = [...deps.runs.rows.values()][0]!.record;
    expect(rec.state).toBe('succeeded');
    expect(rec.completionPublishedAt).toBeDefined();
    expect(rec.tasks?.map((t) => [t.taskKey, t.state, t.durationMs, t.rowsWritten, t.quarantined, t.dependsOn.join(',')])).toEqual([
      ['bronze', 'SUCCESS', 20_000, undefined, undefined, ''],
      ['silver', 'SUCCESS', 15_500, 45, 3, 'bronze'],
      ['gold', 'SUCCESS', undefined, 15, undefined, 'silver'],
    ]);
    expect(rec.tasks?.[1]?.quarantineReasons).toEqual({ 'peakTime not a time': 3 });
    expect(rec.tasks?.[2]?.output).toContain('flare_class_monthly');
  });

  it('repairs a CLOUD_FAILURE per the policy, and never retries a CLIENT_ERROR', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    let n = 0;
    await drain(deps, now, (m) => {
      if (m.schema !== 'orbiter.run-poll') return;
      n++;
      if (n === 1) deps.jobs.set(m.databricksRunId, 'TERMINATED', 'FAILED', 'CLOUD_FAILURE');
      if (n === 2) deps.jobs.set(m.databricksRunId, 'TERMINATED', 'FAILED', 'CLIENT_ERROR');
    });
    const rec = [...deps.runs.rows.values()][0]!.record;
    expect(deps.jobs.repairs).toBe(1);
    expect(rec.attempt).toBe(2);
    expect(rec.state).toBe('failed');
    expect(rec.terminationType).toBe('CLIENT_ERROR');
    expect([...deps.completions.published.values()][0]).toMatchObject({ result_state: 'FAILED', attempt: 2, termination_type: 'CLIENT_ERROR' });
  });

  it('a replayed token that hands back an old failed run is read and reported, not assumed fine', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const req = { ...blobRequest(3), runId: 'api-run-1', origin: 'api' as const };
    await acceptRunRequest(await apiRun(deps, req), deps);
    const id = [...deps.jobs.runs.keys()][0]!;
    deps.jobs.set(id, 'INTERNAL_ERROR', 'FAILED', 'CLIENT_ERROR');
    await drain(deps, now);
    expect(deps.runs.rows.get('api-run-1')!.record.state).toBe('failed');
  });

  it('requests with a run id skip coalescing and a cancelled one is never dispatched', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await deps.runs.createIfAbsent({
      runId: 'api-x',
      dataset: 'neows',
      jobName: 'orbiter-neows-pipeline',
      state: 'cancelled',
      origin: 'api',
      inputs: [],
      parameters: {},
      idempotencyToken: 'x',
      correlationId: 'c',
      attempt: 1,
      requestedAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
    });
    await acceptRunRequest({ ...blobRequest(9), runId: 'api-x', origin: 'api' }, deps);
    expect(deps.jobs.runNowCalls).toBe(0);
    await acceptRunRequest(await apiRun(deps, { ...blobRequest(10), runId: 'api-y', origin: 'api' }), deps);
    expect(deps.jobs.runNowCalls).toBe(1);
    expect(deps.scheduler.sent.some((s) => s.msg.schema === 'orbiter.dispatch-flush')).toBe(false);
  });

  it('a job notification short-cuts the wait with one immediate poll that does not fork the polling chain', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(await apiRun(deps, { ...blobRequest(4), runId: 'api-hook', origin: 'api' }), deps);
    const id = deps.runs.rows.get('api-hook')!.record.databricksRunId!;
    expect(await onJobNotification({ event_type: 'jobs.on_success', run: { run_id: 999 } }, deps)).toBe('unknown-run');
    deps.jobs.set(id, 'TERMINATED', 'SUCCESS');
    expect(await onJobNotification({ event_type: 'jobs.on_success', run: { run_id: id } }, deps)).toBe('polled');
    const hook = deps.scheduler.sent.find((s) => s.id.startsWith('hook-'))!;
    expect(hook.at.getTime()).toBe(now.t); // immediate, not the next adaptive poll
    await handleControl(hook.msg, deps);
    expect(deps.runs.rows.get('api-hook')!.record.state).toBe('succeeded');
    await drain(deps, now); // the regular chain finds the run finished and stops
    expect(deps.completions.published.size).toBe(1);
  });

  it('a run cancelled through the API while run-now was in flight has its Databricks run cancelled', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const runNow = deps.jobs.runNow.bind(deps.jobs);
    deps.jobs.runNow = async (req) => {
      const res = await runNow(req);
      // The API cancels the record between run-now and the dispatcher's record update.
      const cur = deps.runs.rows.get('api-race')!;
      deps.runs.rows.set('api-race', { record: { ...cur.record, state: 'cancelled' }, etag: 'x' });
      return res;
    };
    await acceptRunRequest(await apiRun(deps, { ...blobRequest(5), runId: 'api-race', origin: 'api' }), deps);
    expect(deps.jobs.cancelled).toHaveLength(1);
    expect(deps.runs.rows.get('api-race')!.record.state).toBe('cancelled');
  });

  it('schedules one flush per batch, and a request arriving after its flush becomes a run of its own', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    for (let i = 0; i < 20; i++) await acceptRunRequest(blobRequest(i, T0 + i), deps);
    expect(deps.scheduler.sent).toHaveLength(1);
    const flush = deps.scheduler.sent.shift()!;
    expect(flush.at.getTime()).toBeGreaterThan(Date.parse('2026-11-24T10:01:00Z')); // window end + grace
    // A request racing the flush: it joins while the flush runs (after the flush read the batch).
    const items = deps.batches.items.bind(deps.batches);
    let reads = 0;
    deps.batches.items = async (d, b) => {
      const r = await items(d, b);
      if (++reads === 1) await acceptRunRequest(blobRequest(100, T0 + 500), deps);
      return r;
    };
    now.t = flush.at.getTime();
    await handleControl(flush.msg, deps);
    // A straggler long after the flush.
    await acceptRunRequest(blobRequest(200, T0 + 900), deps);
    await drain(deps, now, (m) => {
      if (m.schema === 'orbiter.run-poll') deps.jobs.set(m.databricksRunId, 'TERMINATED', 'SUCCESS');
    });
    const runs = [...deps.runs.rows.values()].map((r) => r.record).sort((a, b) => b.inputs.length - a.inputs.length);
    // The main run has the window's 20; both stragglers were picked up together by the follow-up flush.
    expect(runs.map((r) => r.inputs.length)).toEqual([20, 2]);
    const all = runs.flatMap((r) => r.inputs.map((i) => i.path));
    expect(new Set(all).size).toBe(22); // nothing lost, nothing run twice
  });

  it('a run that fails for good is parked in the dead-letter queue with its reason, once', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    await drain(deps, now, (m) => {
      if (m.schema === 'orbiter.run-poll') deps.jobs.set(m.databricksRunId, 'TERMINATED', 'FAILED', 'CLOUD_FAILURE');
    });
    const rec = [...deps.runs.rows.values()][0]!.record;
    // The policy allows 3 attempts for CLOUD_FAILURE: after the third the run is failed and parked.
    expect(rec).toMatchObject({ state: 'failed', attempt: 3, terminationType: 'CLOUD_FAILURE' });
    const parked = [...deps.failures.parked.values()];
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({
      reason: 'RunFailed',
      attempt: 3,
      request: { runId: rec.runId, dataset: 'neows', origin: 'retry', inputs: rec.inputs },
    });
    expect(parked[0]!.description).toMatch(/3 of 3 attempts used.*CLOUD_FAILURE.*boom/);
    expect([...deps.completions.published.values()].map((e) => e.result_state)).toEqual(['FAILED']);
  });

  it('a CLIENT_ERROR is not retried and is parked at once', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    await drain(deps, now, (m) => {
      if (m.schema === 'orbiter.run-poll') deps.jobs.set(m.databricksRunId, 'TERMINATED', 'FAILED', 'CLIENT_ERROR');
    });
    expect(deps.jobs.repairs).toBe(0);
    expect([...deps.failures.parked.values()].map((p) => [p.attempt, p.description.split(';')[0]])).toEqual([
      [1, 'termination type CLIENT_ERROR is not retried'],
    ]);
  });

  it('a process killed after recording the final state still publishes the completion when the poll is redelivered', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    await handleControl(deps.scheduler.take()[0]!, deps); // flush → dispatched
    const poll = deps.scheduler.take()[0]!;
    if (poll.schema !== 'orbiter.run-poll') throw new Error('expected a poll');
    deps.jobs.set(poll.databricksRunId, 'TERMINATED', 'SUCCESS');
    const write = deps.completions.write.bind(deps.completions);
    deps.completions.write = async () => {
      throw new Error('killed');
    };
    await expect(handleControl(poll, deps)).rejects.toThrow('killed');
    expect([...deps.runs.rows.values()][0]!.record.state).toBe('succeeded');
    expect(deps.completions.published.size).toBe(0);
    deps.completions.write = write;
    await handleControl(poll, deps); // the redelivery
    await handleControl(poll, deps); // and a duplicate: nothing more
    expect(deps.completions.published.size).toBe(1);
    expect([...deps.runs.rows.values()][0]!.record.completionPublishedAt).toBeDefined();
  });

  it('a Jobs API outage reschedules polls with backoff instead of burning deliveries; other errors still throw', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    await handleControl(deps.scheduler.take()[0]!, deps);
    const poll = deps.scheduler.take()[0]!;
    const getRun = deps.jobs.getRun.bind(deps.jobs);
    deps.jobs.getRun = async () => {
      throw new OrbiterError('JobsApiError', 'HTTP 503', { retryable: true });
    };
    await handleControl(poll, deps);
    await handleControl(deps.scheduler.sent[0]!.msg, deps);
    const again = deps.scheduler.take();
    expect(again).toHaveLength(2);
    expect(again.map((m) => m.failures)).toEqual([1, 2]);
    expect(deps.scheduler.sent).toHaveLength(0);
    deps.jobs.getRun = async () => {
      throw new OrbiterError('NotFound', 'no such run');
    };
    await expect(handleControl(again[1]!, deps)).rejects.toThrow('no such run');
    deps.jobs.getRun = getRun;
    deps.jobs.set((poll as { databricksRunId: number }).databricksRunId, 'TERMINATED', 'SUCCESS');
    await handleControl(again[1]!, deps);
    expect([...deps.runs.rows.values()][0]!.record.state).toBe('succeeded');
  });

  it('flushes deferred by maxRunsInFlight are released by a finishing run, oldest first, one slot at a time', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    deps.catalog = parseJobCatalog({ ...testCatalogInput, defaults: { ...testCatalogInput.defaults, maxRunsInFlight: 1 } });
    // Three windows of neows: the first dispatches, the next two wait for its slot.
    for (let w = 0; w < 3; w++) await acceptRunRequest(blobRequest(w, T0 + w * 60_000), deps);
    const flushes = deps.scheduler.take();
    now.t = T0 + 200_000;
    for (const f of flushes) await handleControl(f, deps);
    expect(deps.jobs.runNowCalls).toBe(1);
    expect(await deps.batches.deferredBuckets('neows')).toHaveLength(2);
    const poll = deps.scheduler.sent.find((s) => s.msg.schema === 'orbiter.run-poll')!;
    deps.scheduler.sent.length = 0;
    deps.jobs.set((poll.msg as { databricksRunId: number }).databricksRunId, 'TERMINATED', 'SUCCESS');
    await handleControl(poll.msg, deps);
    // One slot freed: exactly one deferred flush is released now (not at its fallback time), the oldest.
    const released = deps.scheduler.take();
    expect(released).toEqual([expect.objectContaining({ schema: 'orbiter.dispatch-flush', bucket: T0 - (T0 % 60_000) + 60_000 })]);
    await handleControl(released[0]!, deps);
    expect(deps.jobs.runNowCalls).toBe(2);
    expect(await deps.batches.deferredBuckets('neows')).toHaveLength(1);
  });

  it('a flush killed after taking its rows, before run-now, is finished by its replay even when stragglers joined meanwhile', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    for (let i = 0; i < 5; i++) await acceptRunRequest(blobRequest(i), deps);
    const flush = deps.scheduler.take()[0]!;
    const runNow = deps.jobs.runNow.bind(deps.jobs);
    deps.jobs.runNow = async () => {
      throw new Error('process killed');
    };
    await expect(handleControl(flush, deps)).rejects.toThrow('process killed');
    deps.jobs.runNow = runNow;
    await acceptRunRequest(blobRequest(99, T0 + 1000), deps); // joins while the flush is unfinished
    await handleControl(flush, deps); // the redelivery
    await drain(deps, now, (m) => {
      if (m.schema === 'orbiter.run-poll') deps.jobs.set(m.databricksRunId, 'TERMINATED', 'SUCCESS');
    });
    const runs = [...deps.runs.rows.values()].map((r) => r.record);
    expect(runs.map((r) => [r.inputs.length, r.state]).sort()).toEqual([
      [1, 'succeeded'],
      [5, 'succeeded'],
    ]);
    expect(deps.jobs.runs.size).toBe(2);
    expect(new Set(runs.flatMap((r) => r.inputs.map((i) => i.path))).size).toBe(6);
  });

  it('a straggler that joins while a replayed flush finds nothing left to take is flushed, not stranded', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    for (let i = 0; i < 3; i++) await acceptRunRequest(blobRequest(i), deps);
    const flush = deps.scheduler.take()[0]!;
    // The first attempt dies after run-now: every row is stamped, the marker still says `scheduled`.
    const markFlushed = deps.batches.markFlushed.bind(deps.batches);
    deps.batches.markFlushed = async () => {
      throw new Error('process killed');
    };
    await expect(handleControl(flush, deps)).rejects.toThrow('process killed');
    deps.batches.markFlushed = markFlushed;
    // The replay reads the batch (nothing unassigned); a straggler joins right after that read, sees the marker
    // still `scheduled` and, being a first delivery, leaves the batch to that flush.
    const items = deps.batches.items.bind(deps.batches);
    let joined = false;
    deps.batches.items = async (dataset, bucket) => {
      const read = await items(dataset, bucket);
      if (!joined) {
        joined = true;
        await acceptRunRequest(blobRequest(99, T0 + 1000), deps);
      }
      return read;
    };
    await handleControl(flush, deps);
    deps.batches.items = items;
    await drain(deps, now, (m) => {
      if (m.schema === 'orbiter.run-poll') deps.jobs.set(m.databricksRunId, 'TERMINATED', 'SUCCESS');
    });
    const runs = [...deps.runs.rows.values()].map((r) => r.record);
    expect(runs.map((r) => [r.inputs.length, r.state]).sort()).toEqual([
      [1, 'succeeded'],
      [3, 'succeeded'],
    ]);
  });

  it(`a batch larger than ${MAX_INPUTS_PER_RUN} inputs becomes several runs, none over the cap, nothing lost`, async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    const n = MAX_INPUTS_PER_RUN + 250;
    for (let i = 0; i < n; i++) await acceptRunRequest(blobRequest(i, T0 + (i % 50)), deps);
    await drain(deps, now, (m) => {
      if (m.schema === 'orbiter.run-poll') deps.jobs.set(m.databricksRunId, 'TERMINATED', 'SUCCESS');
    });
    const runs = [...deps.runs.rows.values()].map((r) => r.record);
    expect(runs.map((r) => r.inputs.length).sort((a, b) => b - a)).toEqual([MAX_INPUTS_PER_RUN, 250]);
    expect(new Set(runs.flatMap((r) => r.inputs.map((i) => i.path))).size).toBe(n);
  });

  it('a poll that finishes the run before dispatchRun records it is not undone by that late record write', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    const flush = deps.scheduler.take()[0]!;
    const update = deps.runs.update.bind(deps.runs);
    let raced = false;
    deps.runs.update = async (rec, etag) => {
      if (!raced && rec.state === 'dispatched') {
        // Storage is slow: the poll chain, already scheduled, runs to the end before this write lands.
        raced = true;
        const poll = deps.scheduler.take().find((m) => m.schema === 'orbiter.run-poll');
        if (poll?.schema !== 'orbiter.run-poll') throw new Error('expected a poll');
        deps.jobs.set(poll.databricksRunId, 'TERMINATED', 'SUCCESS');
        await handleControl(poll, deps);
      }
      return update(rec, etag);
    };
    await handleControl(flush, deps);
    expect(raced).toBe(true);
    const rec = [...deps.runs.rows.values()][0]!.record;
    expect(rec).toMatchObject({
      state: 'succeeded',
      databricksRunId: [...deps.jobs.runs.keys()][0],
      databricksRunUrl: expect.stringMatching(/^http:\/\/dbx\/run\//),
    });
    expect(deps.completions.published.size).toBe(1);
  });
});
