import { createHash, randomUUID } from 'node:crypto';
import { ServiceBusClient, type ServiceBusMessage, type ServiceBusSender } from '@azure/service-bus';
import { Containers, Queues } from '../shared/names';
import type { Stack } from '@orbiter/local-stack/stack';
import { runRequestV1, type RunRequest } from '../shared/messages/runRequest';
import { NoWorkRunner } from './support/fakeRunner';
import { invocationCounts, startBenchStack } from './support/benchStack';
import { maxInWindow } from './support/jobsProxy';
import { allRuns } from './support/lakeProbe';
import { check, round, waitFor, type BenchContext, type BenchResult } from './support/stats';

const datasets = ['apod', 'donki', 'eonet', 'neows'] as const;

function landedRequest(i: number, tag: string): ServiceBusMessage {
  const dataset = datasets[i % datasets.length]!;
  const path = `${dataset}/bench/2024/05/25/2024-05-25_2024-05-31.p${String(i + 1).padStart(4, '0')}.${tag}.json`;
  const id = createHash('sha256').update(`${tag}|${path}`).digest('hex');
  const body: RunRequest = runRequestV1.parse({
    schema: 'orbiter.run-request',
    version: 1,
    requestId: `bench-${id.slice(0, 32)}`,
    dataset,
    origin: 'blob-landed',
    inputs: [{ container: Containers.raw, path, etag: `"0x${id.slice(0, 16).toUpperCase()}"`, size: 100 }],
    parameters: {},
    correlationId: `bench-${id.slice(0, 32)}`,
    requestedAt: new Date().toISOString(),
    landedAt: new Date().toISOString(),
  });
  return { messageId: `blob-${id}`, body, contentType: 'application/json', subject: `run-request/${dataset}` };
}

function apiRequest(i: number, tag: string): ServiceBusMessage {
  const dataset = datasets[i % datasets.length]!;
  const runId = `bench-${tag}-${i}`;
  const body: RunRequest = runRequestV1.parse({
    schema: 'orbiter.run-request',
    version: 1,
    requestId: runId,
    dataset,
    origin: 'api',
    runId,
    inputs: [],
    parameters: {},
    correlationId: runId,
    requestedAt: new Date().toISOString(),
  });
  return { messageId: runId, body, contentType: 'application/json', subject: `run-request/${dataset}` };
}

async function sendAll(sender: ServiceBusSender, msgs: ServiceBusMessage[]): Promise<void> {
  let batch = await sender.createMessageBatch();
  for (const m of msgs) {
    if (!batch.tryAddMessage(m)) {
      await sender.sendMessages(batch);
      batch = await sender.createMessageBatch();
      if (!batch.tryAddMessage(m)) throw new Error('message too large for a batch');
    }
  }
  if (batch.count > 0) await sender.sendMessages(batch);
}

/**
 * Messages a Service Bus function accepted: one per successful single-message invocation; for a batch function
 * (cardinality many) the batch's messages.
 */
function messagesAccepted(stack: Stack, name: string): number {
  let n = 0;
  for (const i of stack.host.invocations) if (i.name === name && i.outcome.ok) n += i.outcome.messages ?? 1;
  return n;
}

/**
 * Token-bucket conformance seen from outside: replays the arrivals through a bucket of `rate`/s and `burst`, and
 * returns the deepest overdraft (0 = the client never exceeded its budget; network jitter can bunch arrivals by a
 * token or two).
 */
function bucketOverdraft(times: number[], rate: number, burst: number): number {
  const s = [...times].sort((a, b) => a - b);
  let tokens = burst;
  let last = s[0] ?? 0;
  let worst = 0;
  for (const t of s) {
    tokens = Math.min(burst, tokens + ((t - last) / 1000) * rate);
    last = t;
    tokens -= 1;
    worst = Math.min(worst, tokens);
  }
  return -worst;
}

/**
 * 3. Dispatch throughput: run requests through the Service Bus emulator → dispatchRunRequests (functions host,
 * maxConcurrentCalls from host.json) → batches → flush → run-now on a no-work Databricks emulator. Every 4th run-now
 * is answered 429 + Retry-After by a proxy, as a throttled workspace would.
 */
export async function throughput(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const n = ctx.files ?? (ctx.quick ? 500 : 5000);
  const apiN = ctx.quick ? 40 : 100;
  const tag = randomUUID().slice(0, 8);
  const bench = await startBenchStack({
    repoRoot: ctx.repoRoot,
    runner: new NoWorkRunner(),
    coalescingCapSeconds: 1,
    pollInitialMs: 500,
    pollMaxMs: 2000,
    throttleRunNow: (k) => k % 4 === 0,
  });
  const bus = new ServiceBusClient(bench.stack.serviceBus.connectionString);
  const sender = bus.createSender(Queues.runRequests);
  try {
    const { stack } = bench;
    const base = messagesAccepted(stack, 'dispatchRunRequests');
    // Phase 1: landed-blob requests (coalesced), the bulk of real traffic.
    const msgs = Array.from({ length: n }, (_, i) => landedRequest(i, tag));
    ctx.log(`throughput: sending ${n} landed-blob run requests`);
    const t0 = Date.now();
    await sendAll(sender, msgs);
    const sentMs = Date.now() - t0;
    await waitFor(
      'every request accepted by the dispatcher',
      () => (messagesAccepted(stack, 'dispatchRunRequests') - base >= n ? true : undefined),
      60_000 + n * 20,
      20,
    );
    const acceptMs = Date.now() - t0;
    await waitFor(
      'every request in a dispatched run',
      async () => {
        const runs = await allRuns(stack);
        return runs.filter((r) => r.dispatchedAt).reduce((k, r) => k + r.inputs.length, 0) >= n ? true : undefined;
      },
      120_000 + n * 50,
      250,
    );
    const dispatchedMs = Date.now() - t0;
    const runsPhase1 = (await allRuns(stack)).length;

    // Phase 2: Run API requests (one run-now each): bounded by the client's run-now budget, not by Orbiter.
    ctx.log(`throughput: sending ${apiN} Run API requests (one run-now each)`);
    const t1 = Date.now();
    await sendAll(
      sender,
      Array.from({ length: apiN }, (_, i) => apiRequest(i, tag)),
    );
    await waitFor(
      'every API run dispatched',
      async () => ((await allRuns(stack)).filter((r) => r.origin === 'api' && r.dispatchedAt).length >= apiN ? true : undefined),
      120_000 + apiN * 200,
      250,
    );
    const apiMs = Date.now() - t1;

    const failures = ['dispatchRunRequests', 'runControl'].map((f) => ({ f, ...invocationCounts(stack, f) }));
    const surfaced429 = failures.flatMap((f) => f.errors).filter((e) => /429|rate ?limit|REQUEST_LIMIT/i.test(e)).length;
    const failed = failures.reduce((k, f) => k + f.failed, 0);
    const overdraft = bucketOverdraft(bench.proxy.runNowAt, 20, 20);
    const figures = {
      landedRequests: n,
      sendMs: sentMs,
      acceptedPerSecond: round(n / (acceptMs / 1000)),
      toRunNowAcceptedPerSecond: round(n / (dispatchedMs / 1000)),
      runsForLandedRequests: runsPhase1,
      apiRequests: apiN,
      apiRunsPerSecond: round(apiN / (apiMs / 1000), 2),
      runNowCalls: bench.proxy.runNowAt.length,
      runNowAnswered429: bench.proxy.throttled,
      runNowMaxInAnySecond: maxInWindow(bench.proxy.runNowAt),
      runNowBudget: { ratePerSecond: 20, burst: 20, overdraftTokens: round(overdraft, 2) },
      runsGetCalls: bench.proxy.runsGetAt.length,
      runsGetMaxInAnySecond: maxInWindow(bench.proxy.runsGetAt),
      invocationFailures: failures,
      surfaced429,
    };
    return {
      name: 'throughput',
      figures,
      goals: [
        check('run requests accepted by the dispatcher', figures.acceptedPerSecond, '>=', 500, 'req/s'),
        check('run requests → run-now accepted (incl. 1 s window)', figures.toRunNowAcceptedPerSecond, '>=', 500, 'req/s'),
        check('run-now budget overdraft (token bucket 20/s)', figures.runNowBudget.overdraftTokens, '<=', 2, 'tokens'),
        check('429s surfaced as errors', surfaced429 + failed, '<=', 0, 'failures'),
      ],
      notes: [
        `${bench.proxy.throttled} of ${figures.runNowCalls} run-now calls were answered 429 + Retry-After: 1 by the bench proxy; the client retried them inside its budget (max ${figures.runNowMaxInAnySecond} run-now in any 1 s, bucket 20/s burst 20 allows 40).`,
        `Run API requests need one run-now each, so they are capped by the 20/s budget by design: ${figures.apiRunsPerSecond}/s measured.`,
        'Landed-blob requests are coalesced: the dispatcher only upserts a batch row and schedules a flush per request; run-now happens once per (job, window).',
      ],
      durationMs: Date.now() - started,
    };
  } finally {
    await sender.close().catch(() => undefined);
    await bus.close().catch(() => undefined);
    await bench.stop();
  }
}
