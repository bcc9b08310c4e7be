/** SAS tokens, rights, loopback binding, full-URI addresses and session refusal, through the unchanged JS SDK. */
import net from 'node:net';
import { ServiceBusClient, isServiceBusError } from '@azure/service-bus';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../src/emulator';
import { testConfig } from './harness';

let emu: ServiceBusEmulator;
const clients: ServiceBusClient[] = [];

beforeAll(async () => {
  emu = await startServiceBusEmulator({
    config: testConfig,
    policies: [
      { name: 'RootManageSharedAccessKey', key: 'SAS_KEY_VALUE', rights: ['Manage', 'Send', 'Listen'] },
      { name: 'sender', key: 'c2VuZGVy', rights: ['Send'] },
    ],
  });
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await emu.close();
});

function client(cs: string): ServiceBusClient {
  const c = new ServiceBusClient(cs, { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } });
  clients.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: isServiceBusError(e) ? e.code : (e as { code?: string }).code, message: String((e as Error).message) };
  }
  throw new Error('expected the call to fail');
}

test('the printed connection string carries the key the emulator checks', async () => {
  const c = client(emu.connectionString);
  await c.createSender('basic').sendMessages({ body: 'ok' });
  const [m] = await c.createReceiver('basic', { receiveMode: 'receiveAndDelete' }).receiveMessages(1, { maxWaitTimeInMs: 5000 });
  expect(m?.body).toBe('ok');
});

test('a wrong key is refused as unauthorized', async () => {
  const c = client(emu.connectionString.replace('SAS_KEY_VALUE', 'V1JPTkc='));
  const f = await failure(c.createSender('basic').sendMessages({ body: 'x' }));
  expect(f.code).toBe('UnauthorizedAccess');
  expect(f.message).toMatch(/invalid signature/i);
});

test('a Send-only policy sends but cannot receive or peek', async () => {
  const cs = emu.connectionString.replace('RootManageSharedAccessKey', 'sender').replace('SAS_KEY_VALUE', 'c2VuZGVy');
  const c = client(cs);
  await c.createSender('basic').sendMessages({ body: 'from sender' });
  const receiveFailure = await failure(c.createReceiver('basic').receiveMessages(1, { maxWaitTimeInMs: 2000 }));
  expect(receiveFailure.code).toBe('UnauthorizedAccess');
  expect(receiveFailure.message).toMatch(/'Listen' claim/);
  const drained = await client(emu.connectionString)
    .createReceiver('basic', { receiveMode: 'receiveAndDelete' })
    .receiveMessages(1, { maxWaitTimeInMs: 5000 });
  expect(drained.map((m) => m.body)).toEqual(['from sender']);
});

test('listens on loopback only by default', async () => {
  expect(await canConnect('127.0.0.1', emu.port)).toBe(true);
  const external = Object.values((await import('node:os')).networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (external) expect(await canConnect(external.address, emu.port)).toBe(false);
});

test('a session receiver on an entity without sessions is refused', async () => {
  const c = client(emu.connectionString);
  const f = await failure(c.acceptSession('basic', 's1'));
  expect(f.message).toMatch(/does not require sessions/);
});

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
