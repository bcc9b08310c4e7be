/** Sessions through the unchanged @azure/service-bus client: named and next-available receivers, locks, state. */
import { isServiceBusError, type ServiceBusReceivedMessage, type ServiceBusSessionReceiver } from '@azure/service-bus';
import { pollUntil, sdkClient, startHarness, type Harness } from './harness';

jest.setTimeout(30_000);

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isServiceBusError(e) ? e.code : `not a ServiceBusError: ${String(e)}`;
  }
}

async function receiveAll(r: ServiceBusSessionReceiver, want: number): Promise<ServiceBusReceivedMessage[]> {
  const got: ServiceBusReceivedMessage[] = [];
  await pollUntil(
    async () => {
      got.push(...(await r.receiveMessages(want - got.length, { maxWaitTimeInMs: 300 })));
      return got.length >= want;
    },
    5000,
    `${want} messages`,
  );
  return got;
}

test('a named session receiver gets only its session, in order, with the session lock on the attach', async () => {
  const sender = h.client.createSender('sessions');
  await sender.sendMessages([
    { body: 'a1', sessionId: 'a' },
    { body: 'b1', sessionId: 'b' },
    { body: 'a2', sessionId: 'a' },
    { body: 'a3', sessionId: 'a' },
  ]);
  const r = await h.client.acceptSession('sessions', 'a');
  expect(r.sessionId).toBe('a');
  expect(r.sessionLockedUntilUtc.getTime()).toBeGreaterThan(Date.now());
  expect(r.sessionLockedUntilUtc.getTime()).toBeLessThan(Date.now() + 10_000); // LockDuration PT5S
  const msgs = await receiveAll(r, 3);
  expect(msgs.map((m) => m.body)).toEqual(['a1', 'a2', 'a3']);
  expect(msgs.every((m) => m.sessionId === 'a')).toBe(true);
  for (const m of msgs) await r.completeMessage(m);
  expect(await r.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
  await r.close();
  const b = await h.client.acceptNextSession('sessions');
  expect(b.sessionId).toBe('b');
  await b.close();
});

test('next-available picks the oldest unlocked session; a held session cannot be accepted twice', async () => {
  await h.client.createSender('sessions').sendMessages([
    { body: 'x', sessionId: 's1' },
    { body: 'y', sessionId: 's2' },
  ]);
  const first = await h.client.acceptNextSession('sessions');
  const second = await h.client.acceptNextSession('sessions');
  expect([first.sessionId, second.sessionId]).toEqual(['s1', 's2']);
  const other = sdkClient(h.emulator.connectionString);
  try {
    expect(await errorCode(other.acceptSession('sessions', 's1'))).toBe('SessionCannotBeLocked');
    await first.close();
    const again = await other.acceptSession('sessions', 's1');
    const [m] = await receiveAll(again, 1);
    expect(m!.body).toBe('x');
    expect(m!.deliveryCount).toBe(0);
  } finally {
    await other.close();
  }
});

test('next-available waits for a session that arrives later, and times out when none does', async () => {
  const waiting = h.client.acceptNextSession('sessions');
  await h.client.createSender('sessions').sendMessages({ body: 'late', sessionId: 'late' });
  const r = await waiting;
  expect(r.sessionId).toBe('late');
  const quick = sdkClient(h.emulator.connectionString);
  try {
    expect(await errorCode(quick.acceptNextSession('sessions', { maxAutoLockRenewalDurationInMs: 0 }))).toBe('ServiceTimeout');
  } finally {
    await quick.close();
  }
});

test('session state survives set/get, renewSessionLock extends the lock', async () => {
  const r = await h.client.acceptSession('sessions', 'stateful', { maxAutoLockRenewalDurationInMs: 0 });
  expect(await r.getSessionState()).toBeNull(); // as Azure: no state yet
  await r.setSessionState(Buffer.from('step-2'));
  expect(Buffer.from(await r.getSessionState()).toString()).toBe('step-2');
  const before = r.sessionLockedUntilUtc.getTime();
  await pollUntil(() => Date.now() > before - 4000, 2000, 'time to pass');
  const renewed = await r.renewSessionLock();
  expect(renewed.getTime()).toBeGreaterThan(before);
  await r.close();
});

test('an expired session lock is lost: settlement fails with SessionLockLost and the message is redelivered', async () => {
  await h.client.createSender('sessions').sendMessages({ body: 'slow', sessionId: 'slow' });
  const r = await h.client.acceptSession('sessions', 'slow', { maxAutoLockRenewalDurationInMs: 0 });
  const [m] = await receiveAll(r, 1);
  await pollUntil(() => Date.now() > r.sessionLockedUntilUtc.getTime() + 200, 8000, 'session lock expiry');
  expect(await errorCode(r.completeMessage(m!))).toBe('SessionLockLost');
  const other = sdkClient(h.emulator.connectionString);
  try {
    const again = await other.acceptSession('sessions', 'slow');
    const [m2] = await receiveAll(again, 1);
    expect(m2!.body).toBe('slow');
    expect(m2!.deliveryCount).toBe(1);
    await again.completeMessage(m2!);
  } finally {
    await other.close();
  }
});

test('peek and deferral stay inside the session', async () => {
  await h.client.createSender('sessions').sendMessages([
    { body: 'd1', sessionId: 'd' },
    { body: 'e1', sessionId: 'e' },
  ]);
  const r = await h.client.acceptSession('sessions', 'd');
  expect((await r.peekMessages(10)).map((m) => m.body)).toEqual(['d1']);
  const [m] = await receiveAll(r, 1);
  await r.deferMessage(m!);
  const [deferred] = await r.receiveDeferredMessages([m!.sequenceNumber!]);
  expect(deferred!.body).toBe('d1');
  await r.completeMessage(deferred!);
  expect(await r.peekMessages(10, { fromSequenceNumber: m!.sequenceNumber! })).toEqual([]);
});

async function errorMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return String((e as Error).message);
  }
}

test('sessionful entities refuse plain receivers and messages without a SessionId', async () => {
  // amqp:not-allowed, which this SDK reports as a GeneralError with Azure's wording.
  expect(await errorMessage(h.client.createReceiver('sessions').receiveMessages(1, { maxWaitTimeInMs: 1000 }))).toMatch(
    /requires sessions to create a non-sessionful message receiver/,
  );
  expect(await errorMessage(h.client.createSender('sessions').sendMessages({ body: 'no session' }))).toMatch(/SessionId was not set/);
});

test('a session subscription groups topic messages by session', async () => {
  await h.client.createSender('session-events').sendMessages([
    { body: 1, sessionId: 'k' },
    { body: 2, sessionId: 'j' },
    { body: 3, sessionId: 'k' },
  ]);
  const r = await h.client.acceptSession('session-events', 'by-session', 'k');
  expect((await receiveAll(r, 2)).map((m) => m.body)).toEqual([1, 3]);
});
