/** Session `$management` operations on the ManagementNode with an injected clock (no sockets). */
import { parseEmulatorConfig } from '../../src/emulator-config';
import { ManagementNode } from '../../src/management';
import { ServiceBusNamespace } from '../../src/namespace';

function setup() {
  const clock = { t: 1_000_000, now: () => clock.t };
  const ns = new ServiceBusNamespace(
    parseEmulatorConfig({
      UserConfig: {
        Namespaces: [{ Name: 'ns', Queues: [{ Name: 's', Properties: { RequiresSession: true, LockDuration: 'PT10S' } }, { Name: 'plain' }] }],
      },
    }),
    { clock },
  );
  const node = new ManagementNode(ns);
  const call = (operation: string, body: Record<string, unknown>, path = 's') => node.handle(path, { application_properties: { operation }, body });
  const send = (sessionId: string) =>
    ns.send('s', [
      { raw: Buffer.from([0x00, 0x53, 0x77, 0x45]), meta: { messageId: `${sessionId}-${clock.t}`, sessionId, applicationProperties: {} } },
    ]);
  return { clock, ns, call, send, queue: ns.receiver('s')! };
}

test('state and renewal need a held session; an expired lock is lost (410 session-lock-lost)', () => {
  const { clock, call, queue } = setup();
  expect(call('com.microsoft:get-session-state', { 'session-id': 'a' })).toMatchObject({
    statusCode: 410,
    errorCondition: 'com.microsoft:session-lock-lost',
  });
  expect(queue.acceptSession('a')).toMatchObject({ sessionId: 'a', lockedUntil: 1_010_000 });
  expect(call('com.microsoft:set-session-state', { 'session-id': 'a', 'session-state': Buffer.from('s1') }).statusCode).toBe(200);
  const got = call('com.microsoft:get-session-state', { 'session-id': 'a' });
  expect(got.statusCode).toBe(200);
  expect(Buffer.from((got.body!['session-state'] as { value: Buffer }).value).toString()).toBe('s1');
  clock.t += 5_000;
  expect(call('com.microsoft:renew-session-lock', { 'session-id': 'a' }).body).toEqual({ expiration: new Date(1_015_000) });
  clock.t += 10_000;
  expect(call('com.microsoft:renew-session-lock', { 'session-id': 'a' }).statusCode).toBe(410);
  expect(queue.acceptSession('a')).not.toBe('locked');
});

test('get-message-sessions lists sessions with messages, or with state changed since a time', () => {
  const { clock, call, send, queue } = setup();
  expect(call('com.microsoft:get-message-sessions', {}).statusCode).toBe(204);
  send('b');
  send('a');
  send('b');
  expect(call('com.microsoft:get-message-sessions', { skip: 0, top: 10 }).body).toMatchObject({ 'sessions-ids': ['a', 'b'] });
  expect(call('com.microsoft:get-message-sessions', { skip: 1, top: 10 }).body).toMatchObject({ 'sessions-ids': ['b'] });
  queue.acceptSession('c');
  clock.t += 1;
  call('com.microsoft:set-session-state', { 'session-id': 'c', 'session-state': Buffer.from('x') });
  expect(call('com.microsoft:get-message-sessions', { 'last-updated-time': new Date(clock.t - 1) }).body).toMatchObject({ 'sessions-ids': ['c'] });
  expect(call('com.microsoft:get-message-sessions', { 'last-updated-time': new Date(clock.t) }).statusCode).toBe(204);
});

test('session operations on an entity without sessions are refused', () => {
  const { call } = setup();
  expect(call('com.microsoft:get-session-state', { 'session-id': 'a' }, 'plain')).toMatchObject({
    statusCode: 400,
    errorCondition: 'amqp:not-allowed',
  });
});
