import { TableClient } from '@azure/data-tables';
import { TableBatchStore } from '../../../shared/dispatch/batches';
import { MAX_INPUTS_PER_RUN } from '../../../shared/dispatch/flush';
import { mutateRun, TableRunStore, type RunRecord } from '../../../shared/runs/runStore';
import { startTestAzurite } from '../../support/azurite';

/** The dispatcher's Table storage against Azurite: records past one property's 32K characters, deferred batches. */
describe('dispatch table stores (Azurite)', () => {
  let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
  beforeAll(async () => {
    azurite = await startTestAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  const record = (runId: string, inputs: number): RunRecord => ({
    runId,
    dataset: 'neows',
    jobName: 'orbiter-neows-pipeline',
    state: 'requested',
    origin: 'blob-landed',
    inputs: Array.from({ length: inputs }, (_, i) => ({
      container: 'raw',
      path: `neows/feed/2026/11/24/2026-11-24_2026-11-24.${String(i).padStart(4, '0')}.${'ab'.repeat(8)}.json`,
      etag: `"0x8DD${i}"`,
    })),
    parameters: { note: 'Café — ünïcode survives chunking' },
    idempotencyToken: 'a'.repeat(64),
    correlationId: 'corr',
    attempt: 1,
    requestedAt: '2026-11-24T10:00:00.000Z',
    updatedAt: '2026-11-24T10:00:00.000Z',
  });

  it('stores, updates and lists a run with the most inputs a run may have (several properties)', async () => {
    const runs = new TableRunStore(TableClient.fromConnectionString(azurite.connectionString, 'RunsBig', { allowInsecureConnection: true }));
    const big = record('neows-big', MAX_INPUTS_PER_RUN);
    expect(JSON.stringify(big).length).toBeGreaterThan(100_000); // more than three 32K-character properties
    const { created } = await runs.createIfAbsent(big);
    expect(created).toBe(true);
    expect((await runs.get('neows-big'))!.record).toEqual(big);
    const updated = await mutateRun(runs, 'neows-big', (r) => ({ ...r, state: 'dispatched', inputs: r.inputs.slice(0, 3) }));
    expect(updated!.inputs).toHaveLength(3);
    // Shrinking drops the parts it no longer needs (Replace), and reads stay exact.
    expect((await runs.get('neows-big'))!.record).toEqual({ ...big, state: 'dispatched', inputs: big.inputs.slice(0, 3) });
    expect((await runs.list({ dataset: 'neows', state: 'dispatched' })).runs.map((r) => r.runId)).toEqual(['neows-big']);
  });

  it("lists a batch's runs by run-id prefix (a key range), not its neighbours'", async () => {
    const runs = new TableRunStore(TableClient.fromConnectionString(azurite.connectionString, 'RunsPrefix', { allowInsecureConnection: true }));
    for (const id of [
      'neows-20261124T100000-aaa',
      'neows-20261124T100000-bbb',
      'neows-20261124T100001-ccc',
      'neows-20261124T09595-ddd',
      'neows-20261124T100000',
    ])
      await runs.createIfAbsent(record(id, 1));
    const found = await runs.list({ runIdPrefix: 'neows-20261124T100000-', state: 'requested' });
    expect(found.runs.map((r) => r.runId).sort()).toEqual(['neows-20261124T100000-aaa', 'neows-20261124T100000-bbb']);
  });

  it('lists newest first across pages (time index), with dataset, since and state filters, and the scans unchanged', async () => {
    const runs = new TableRunStore(TableClient.fromConnectionString(azurite.connectionString, 'RunsByTime', { allowInsecureConnection: true }));
    // Run ids sort against request time (an "a" run is the newest): the order can only come from the index.
    const at = (h: number): string => `2026-11-24T${String(h).padStart(2, '0')}:00:00.000Z`;
    const made = [
      { ...record('zz-oldest', 1), requestedAt: at(1) },
      { ...record('mm-middle', 1), requestedAt: at(5), state: 'succeeded' as const },
      { ...record('aa-newest', 1), requestedAt: at(9) },
      { ...record('bb-other', 1), requestedAt: at(7), dataset: 'apod' },
    ];
    for (const r of made) await runs.createIfAbsent(r);
    const ids = async (q: Parameters<TableRunStore['list']>[0]): Promise<string[]> => {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await runs.list({ ...q, limit: 1, newestFirst: true, ...(token ? { continuationToken: token } : {}) });
        out.push(...page.runs.map((r) => r.runId));
        token = page.continuationToken;
      } while (token);
      return out;
    };
    expect(await ids({})).toEqual(['aa-newest', 'bb-other', 'mm-middle', 'zz-oldest']);
    expect(await ids({ dataset: 'neows' })).toEqual(['aa-newest', 'mm-middle', 'zz-oldest']);
    expect(await ids({ since: at(5) })).toEqual(['aa-newest', 'bb-other', 'mm-middle']);
    expect(await ids({ state: 'requested' })).toEqual(['aa-newest', 'bb-other', 'zz-oldest']);
    // The index rows are not runs to the other readers.
    expect((await runs.list({ limit: 100 })).runs.map((r) => r.runId).sort()).toEqual(['aa-newest', 'bb-other', 'mm-middle', 'zz-oldest']);
  });

  it('refuses a record too large for one entity with an error naming the run', async () => {
    const runs = new TableRunStore(TableClient.fromConnectionString(azurite.connectionString, 'RunsHuge', { allowInsecureConnection: true }));
    await expect(runs.createIfAbsent(record('neows-huge', 10_000))).rejects.toThrow(/run neows-huge is too large to record .*10000 inputs/);
  });

  it('keeps deferred batches per dataset, oldest first', async () => {
    const batches = new TableBatchStore(
      TableClient.fromConnectionString(azurite.connectionString, 'BatchesDeferred', { allowInsecureConnection: true }),
    );
    await batches.markDeferred('neows', 1_700_000_060_000);
    await batches.markDeferred('neows', 1_700_000_000_000);
    await batches.markDeferred('neows', 1_700_000_000_000);
    await batches.markDeferred('apod', 5);
    expect(await batches.deferredBuckets('neows')).toEqual([1_700_000_000_000, 1_700_000_060_000]);
    await batches.clearDeferred('neows', 1_700_000_000_000);
    await batches.clearDeferred('neows', 42); // absent: no error
    expect(await batches.deferredBuckets('neows')).toEqual([1_700_000_060_000]);
    expect(await batches.deferredBuckets('apod')).toEqual([5]);
    // The deferred list is not a batch: it never shows up among a bucket's items.
    expect(await batches.items('neows', 1_700_000_060_000)).toEqual([]);
  });
});
