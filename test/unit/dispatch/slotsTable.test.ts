/** The table slot rows under concurrent claimers (Azurite): the cap holds, finished holders are taken over. */
import { createStorageClients } from '../../../shared/storage/clients';
import { Tables } from '../../../shared/names';
import { claimSlot, freeSlots, releaseSlot, TableSlotRows } from '../../../shared/dispatch/slots';
import { TableRunStore } from '../../../shared/runs/runStore';
import { startTestAzurite } from '../../support/azurite';
import { testConfig } from '../../support/config';

jest.setTimeout(90_000);

describe('TableSlotRows (Azurite)', () => {
  let az: Awaited<ReturnType<typeof startTestAzurite>>;
  let rows: TableSlotRows;
  let runs: TableRunStore;
  beforeAll(async () => {
    az = await startTestAzurite();
    const storage = createStorageClients(testConfig({ OrbiterLake: az.connectionString }));
    rows = new TableSlotRows(storage.table(Tables.runs));
    runs = new TableRunStore(storage.table(Tables.runs));
  });
  afterAll(async () => {
    await az?.stop();
  });

  const now = new Date('2026-12-01T00:00:00Z');
  const busy = async () => false;

  it('40 concurrent claimers of a cap of 3: exactly 3 win, a second claim by a holder is a no-op', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => claimSlot(rows, 'fireball', `run-${i}`, 3, busy, now)));
    const winners = results.flatMap((won, i) => (won ? [`run-${i}`] : []));
    expect(winners).toHaveLength(3);
    expect((await rows.list('fireball')).map((r) => r.holder).sort()).toEqual([...winners].sort());
    expect(await claimSlot(rows, 'fireball', winners[0]!, 3, busy, now)).toBe(true);
    expect(await rows.list('fireball')).toHaveLength(3);
    // Another dataset has its own slots; the runs table's listings never see slot rows.
    expect(await claimSlot(rows, 'apod', 'run-x', 1, busy, now)).toBe(true);
    expect((await runs.list({})).runs).toEqual([]);
  });

  it('release frees a slot for the next claimer; a finished holder is taken over by exactly one of many', async () => {
    const [first] = (await rows.list('fireball')).map((r) => r.holder);
    await releaseSlot(rows, 'fireball', first!);
    expect(await freeSlots(rows, 'fireball', 3, busy)).toBe(1);
    expect(await claimSlot(rows, 'fireball', 'late-1', 3, busy, now)).toBe(true);
    expect(await claimSlot(rows, 'fireball', 'late-2', 3, busy, now)).toBe(false);
    // Every holder so far is finished: 10 concurrent claimers take over the 3 rows, no more. (A new holder is not
    // finished: a claimer that lists after a takeover must not take the row again.)
    const finished = new Set((await rows.list('fireball')).map((r) => r.holder));
    const done = async (holder: string) => finished.has(holder);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => claimSlot(rows, 'fireball', `next-${i}`, 3, done, now)));
    expect(results.filter(Boolean)).toHaveLength(3);
    expect((await rows.list('fireball')).every((r) => r.holder.startsWith('next-'))).toBe(true);
  });
});
