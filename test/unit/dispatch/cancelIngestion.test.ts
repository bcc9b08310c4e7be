/** Issue 16 item 5: a cancelled blob-landed run ended USER_CANCELED with its landed files neither run nor parked. */
import { asNewRun } from '@orbiter/ops/cli/dlq';
import { acceptRunRequest } from '../../../shared/dispatch/accept';
import { handleControl } from '../../../shared/dispatch/control';
import type { ControlMessage } from '../../../shared/dispatch/messages';
import { runRequestV1 } from '../../../shared/messages/runRequest';
import { cancelRun } from '../../../shared/api/runs';
import { ApiRoles } from '../../../shared/api/auth';
import { blobRequest, fakeDeps, T0 } from '../../support/dispatchFakes';

const operator = { id: 'op', roles: new Set<string>([ApiRoles.operate]) };

/** Delivers due control messages in time order; `onPoll` plays Databricks. */
async function drain(
  deps: ReturnType<typeof fakeDeps>,
  now: { t: number },
  onPoll: (m: Extract<ControlMessage, { schema: 'orbiter.run-poll' }>) => void,
) {
  for (let guard = 0; guard < 1000; guard++) {
    const next = deps.scheduler.sent.sort((a, b) => a.at.getTime() - b.at.getTime()).shift();
    if (!next) return;
    now.t = Math.max(now.t, next.at.getTime());
    if (next.msg.schema === 'orbiter.run-poll') onPoll(next.msg);
    await handleControl(next.msg, deps);
  }
  throw new Error('control loop did not settle');
}

describe('cancelling an ingestion run loses no landed file', () => {
  it('cancelled through the Run API while running: its inputs are parked RunCancelled, and a resubmission runs them', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    for (let i = 0; i < 3; i++) await acceptRunRequest(blobRequest(i, T0 + i), deps);
    const flush = deps.scheduler.take()[0]!;
    await handleControl(flush, deps);
    const run = [...deps.runs.rows.values()][0]!.record;
    expect(run).toMatchObject({ origin: 'blob-landed', state: 'dispatched' });

    const out = await cancelRun(run.runId, 'http://h', { runs: deps.runs, now: deps.now, jobs: async () => deps.jobs }, operator);
    expect(out.status).toBe(202);
    await drain(deps, now, () => undefined); // FakeJobs.cancelRun made the Databricks run TERMINATED/CANCELED
    expect(deps.runs.rows.get(run.runId)!.record.state).toBe('cancelled');

    const parked = [...deps.failures.parked.values()];
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ reason: 'RunCancelled', attempt: 1 });
    expect(parked[0]!.description).toMatch(/ingestion run cancelled .* 3 landed input/);
    expect(parked[0]!.request.inputs.map((i) => i.path).sort()).toEqual(run.inputs.map((i) => i.path).sort());
    // A redelivered final poll parks nothing twice.
    await handleControl(
      { schema: 'orbiter.run-poll', version: 1, runId: run.runId, databricksRunId: run.databricksRunId!, attempt: 1, polls: 9 },
      deps,
    );
    expect(deps.failures.parked.size).toBe(1);

    // `orbiter dlq resubmit`: the parked request, without its run id, joins a batch and runs the same files.
    now.t += 3_600_000;
    const again = runRequestV1.parse(asNewRun(parked[0]!.request));
    expect(again.runId).toBeUndefined();
    await acceptRunRequest({ ...again, requestedAt: new Date(now.t).toISOString() }, deps);
    await drain(deps, now, (m) => deps.jobs.set(m.databricksRunId, 'TERMINATED', 'SUCCESS'));
    const rerun = [...deps.runs.rows.values()].find((r) => r.record.runId !== run.runId)!.record;
    expect(rerun.state).toBe('succeeded');
    expect(rerun.inputs.map((i) => i.path).sort()).toEqual(run.inputs.map((i) => i.path).sort());
  });

  it('an ingestion run cancelled in Databricks itself is parked too; a cancelled API run is not (its caller asked)', async () => {
    const now = { t: T0 };
    const deps = fakeDeps(now);
    await acceptRunRequest(blobRequest(1), deps);
    await handleControl(deps.scheduler.take()[0]!, deps);
    const run = [...deps.runs.rows.values()][0]!.record;
    await drain(deps, now, (m) => deps.jobs.set(m.databricksRunId, 'TERMINATED', 'CANCELED'));
    expect([...deps.failures.parked.values()].map((p) => [p.request.runId, p.reason])).toEqual([[run.runId, 'RunCancelled']]);

    const api = fakeDeps(now);
    const { apiRun } = await import('../../support/dispatchFakes');
    await acceptRunRequest(await apiRun(api, { ...blobRequest(2), origin: 'api', runId: 'api-x' }), api);
    await drain(api, now, (m) => api.jobs.set(m.databricksRunId, 'TERMINATED', 'CANCELED'));
    expect(api.runs.rows.get('api-x')!.record.state).toBe('cancelled');
    expect(api.failures.parked.size).toBe(0);
  });
});
