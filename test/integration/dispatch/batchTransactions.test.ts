/** TableBatchStore's transactional writes against Azurite: more than 100 rows in one partition, redelivery, assignment. */
import { TableClient } from '@azure/data-tables';
import { inputKey, MAX_TRANSACTION_ACTIONS, TableBatchStore } from '../../../shared/dispatch/batches';
import { startTestAzurite } from '../../support/azurite';

jest.setTimeout(60_000);

describe('TableBatchStore transactions', () => {
  let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
  let store: TableBatchStore;

  beforeAll(async () => {
    azurite = await startTestAzurite();
    store = new TableBatchStore(TableClient.fromConnectionString(azurite.connectionString, 'BatchTx', { allowInsecureConnection: true }));
  }, 60_000);
  afterAll(async () => {
    await azurite?.stop();
  });

  const item = (i: number, requestId = `req-${i}`) => ({
    input: { container: 'raw', path: `neows/feed/2024/05/25/file-${i}.json`, etag: `"0x${i}"` },
    requestId,
    correlationId: `corr-${i}`,
    landedAt: '2026-11-24T10:00:00.000Z',
  });

  it('writes 250 rows of one batch (several transactions of at most 100), duplicates collapsing to one row', async () => {
    const items = Array.from({ length: 250 }, (_, i) => item(i));
    expect(items.length).toBeGreaterThan(2 * MAX_TRANSACTION_ACTIONS);
    // The same input twice in one delivery: a transaction may touch an entity only once.
    await store.addMany('neows', 1000, [...items, item(5, 'req-5-again')]);
    const rows = await store.items('neows', 1000);
    expect(rows).toHaveLength(250);
    expect(rows.find((r) => r.key === inputKey(item(5).input))!.requestId).toBe('req-5-again');
    expect(rows.every((r) => r.runId === undefined && r.landedAt === '2026-11-24T10:00:00.000Z')).toBe(true);
  });

  it('a redelivered batch rewrites the same rows and keeps the run a flush already stamped on them', async () => {
    const items = Array.from({ length: 130 }, (_, i) => item(i));
    await store.addMany('apod', 2000, items);
    const keys = (await store.items('apod', 2000)).map((r) => r.key);
    await store.assign('apod', 2000, keys.slice(0, 120), 'run-1');
    await store.addMany('apod', 2000, [...items, item(500)]); // redelivery, plus one new input
    const rows = await store.items('apod', 2000);
    expect(rows).toHaveLength(131);
    expect(rows.filter((r) => r.runId === 'run-1')).toHaveLength(120);
    const stamped = new Set(keys.slice(0, 120));
    expect(
      rows
        .filter((r) => !r.runId)
        .map((r) => r.input.path)
        .sort(),
    ).toEqual([...items.filter((i) => !stamped.has(inputKey(i.input))).map((i) => i.input.path), item(500).input.path].sort());
  });

  it('batches do not share rows: one partition per dataset and bucket', async () => {
    await store.addMany('neows', 3000, [item(1)]);
    await store.addMany('apod', 3000, [item(1)]);
    expect(await store.items('neows', 3000)).toHaveLength(1);
    expect(await store.items('apod', 3000)).toHaveLength(1);
  });
});
