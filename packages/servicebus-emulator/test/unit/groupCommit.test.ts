/** Group commit: acknowledgements wait for the fsync that covers them, and one fsync covers a whole turn. */
import { GroupCommitJournal, memoryJournal, type Journal } from '../../src/journal';

/** A journal whose fsyncs complete when the test says so. */
function slowJournal() {
  const calls: string[] = [];
  const pendingSyncs: ((err: Error | null) => void)[] = [];
  const inner: Journal = {
    ...memoryJournal,
    commit: () => void calls.push('sync-commit'),
    commitAsync: (done) => {
      calls.push('async-commit');
      pendingSyncs.push(done);
    },
    close: () => void calls.push('close'),
  };
  return { inner, calls, landSync: () => pendingSyncs.shift()!(null), pendingSyncs };
}

const turn = () => new Promise((r) => setImmediate(r));

test('many commits in one turn share one fsync; their acknowledgements run only once it landed', async () => {
  const { inner, calls, landSync } = slowJournal();
  const j = new GroupCommitJournal(inner);
  const acked: number[] = [];
  for (let i = 0; i < 100; i++) {
    j.commit();
    j.whenDurable(() => acked.push(i));
  }
  await turn();
  expect(calls).toEqual(['async-commit']);
  expect(acked).toHaveLength(0);
  // Work arriving while the fsync runs waits for the next one.
  j.commit();
  j.whenDurable(() => acked.push(100));
  landSync();
  expect(acked).toHaveLength(100);
  await turn();
  expect(calls).toEqual(['async-commit', 'async-commit']);
  landSync();
  expect(acked).toHaveLength(101);
});

test('nothing due: acknowledged at once; flush() syncs now; close() waits for an fsync in flight', async () => {
  const { inner, calls, landSync } = slowJournal();
  const j = new GroupCommitJournal(inner);
  let now = false;
  j.whenDurable(() => (now = true));
  expect(now).toBe(true);
  j.commit();
  let flushed = false;
  j.whenDurable(() => (flushed = true));
  j.flush();
  expect(flushed).toBe(true);
  expect(calls).toEqual(['sync-commit']);
  j.commit();
  await turn();
  j.close();
  let closed = false;
  void j.closed.then(() => (closed = true));
  await turn();
  expect(closed).toBe(false);
  landSync();
  await j.closed;
  expect(calls).toEqual(['sync-commit', 'async-commit', 'sync-commit', 'close']);
});
