import { resolve } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import axios from 'axios';
import type {
  BlobEventFunction,
  FunctionDefinition,
  HttpFunction,
  ServiceBusQueueBatchFunction,
  ServiceBusQueueFunction,
  TimerFunction,
} from 'orbiter/functions/definition';
import { loadConfig } from 'orbiter/shared/config';
import { silentLogger } from 'orbiter/shared/logger';
import { Tables } from 'orbiter/shared/names';
import { createStorageClients } from 'orbiter/shared/storage/clients';
import { blobCreatedEvent } from '../../src/eventGrid';
import { FunctionHost } from '../../src/functionHost';
import { startServiceBusEmulator, type ServiceBusEmulator } from '@orbiter/servicebus-emulator/emulator';
import { BlobWatcher } from '../../src/blobWatcher';
import { freePort } from '@orbiter/local-stack/ports';
import { startTestAzurite } from '../../../../test/support/azurite';

jest.setTimeout(60_000);
const KEY = 'host-test-function-key-123456';

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('local functions host', () => {
  let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
  let sb: ServiceBusEmulator;
  let host: FunctionHost;
  const seen: { fn: string; arg: unknown; meta: Record<string, unknown> }[] = [];
  const failSb = true;

  const defs: FunctionDefinition[] = [
    {
      kind: 'timer',
      name: 'tick',
      schedule: '%TICK_SCHEDULE%',
      handler: async (t, c) => void seen.push({ fn: 'tick', arg: t, meta: c.triggerMetadata ?? {} }),
    } satisfies TimerFunction,
    {
      kind: 'http',
      name: 'echo',
      route: 'things/{id}',
      methods: ['GET'],
      authLevel: 'function',
      handler: async (req) => ({ status: 200, jsonBody: { id: req.params['id'], q: req.query.get('q') } }),
    } satisfies HttpFunction,
    {
      kind: 'http',
      name: 'open',
      route: 'open',
      methods: ['GET'],
      authLevel: 'anonymous',
      handler: async () => ({ status: 204 }),
    } satisfies HttpFunction,
    {
      kind: 'blobEvent',
      name: 'onBlob',
      container: 'raw',
      handler: async (ev, c) => void seen.push({ fn: 'onBlob', arg: ev, meta: c.triggerMetadata ?? {} }),
    } satisfies BlobEventFunction,
    {
      kind: 'serviceBusQueue',
      name: 'onMsg',
      queueName: 'run-status',
      connection: 'ServiceBusConnection',
      handler: async (m, c) => {
        seen.push({ fn: 'onMsg', arg: m, meta: c.triggerMetadata ?? {} });
        if (failSb && (m as { fail?: boolean }).fail) throw new Error('poison');
      },
    } satisfies ServiceBusQueueFunction,
    {
      kind: 'serviceBusQueue',
      name: 'onBatch',
      queueName: 'run-requests',
      connection: 'ServiceBusConnection',
      cardinality: 'many',
      handler: async (bodies, c) => {
        const meta = c.triggerMetadata ?? {};
        batches.push({
          bodies: bodies as { i: number; boom?: boolean }[],
          ids: meta['messageIdArray'] as string[],
          counts: meta['deliveryCountArray'] as number[],
        });
        const typed = bodies as { i: number; boom?: boolean }[];
        // Fails the first delivery of a batch holding a "boom" member: the whole batch must come back.
        if (typed.some((b) => b.boom) && !boomed) {
          boomed = true;
          throw new Error('transient');
        }
      },
    } satisfies ServiceBusQueueBatchFunction,
  ];
  const batches: { bodies: { i: number; boom?: boolean }[]; ids: string[]; counts: number[] }[] = [];
  let boomed = false;

  beforeAll(async () => {
    azurite = await startTestAzurite();
    sb = await startServiceBusEmulator({ port: 0, config: resolve(__dirname, '..', '..', '..', 'servicebus-emulator', 'config.json') });
    const settings = { OrbiterLake: azurite.connectionString, ServiceBusConnection: sb.connectionString, TICK_SCHEDULE: '*/1 * * * * *' };
    const config = loadConfig(settings);
    host = new FunctionHost({
      definitions: defs,
      config,
      settings,
      storage: createStorageClients(config),
      functionKey: KEY,
      logger: silentLogger,
      port: await freePort(),
      timers: true,
      serviceBus: true,
      maxConcurrentCalls: 2,
      maxMessageBatchSize: 16,
    });
    await host.start();
  }, 60_000);

  afterAll(async () => {
    await host?.stop();
    await sb?.close();
    await azurite?.stop();
  });

  it('fires timers on their 6-field NCRONTAB schedule, resolved from %SETTING%', async () => {
    await until('two ticks', () => seen.filter((s) => s.fn === 'tick').length >= 2 || undefined, 5000);
    expect(host.resolveSetting('%TICK_SCHEDULE%')).toBe('*/1 * * * * *');
    expect(() => host.resolveSetting('%NOPE%')).toThrow('app setting NOPE is not set');
  });

  it('routes HTTP under /api and enforces function keys like Azure', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => axios.get(`${host.url}${path}`, { headers, validateStatus: () => true });
    expect((await get('/api/things/42')).status).toBe(401);
    expect((await get('/api/things/42', { 'x-functions-key': 'wrong' })).status).toBe(401);
    const ok = await get('/api/things/42?q=x', { 'x-functions-key': KEY });
    expect(ok.status).toBe(200);
    expect(ok.data).toEqual({ id: '42', q: 'x' });
    expect((await get(`/api/things/7?code=${KEY}`)).status).toBe(200);
    expect((await get('/api/open')).status).toBe(204);
    expect((await get('/api/nothing-here')).status).toBe(404);
    expect((await axios.post(`${host.url}/api/open`, {}, { validateStatus: () => true })).status).toBe(405);
  });

  it('answers the Event Grid validation handshake and hands each event to the function, without its blob', async () => {
    const url = `${host.url}/runtime/webhooks/eventgrid?functionName=Host.Functions.onBlob&code=${KEY}`;
    const v = await axios.post(
      url,
      [
        {
          id: '1',
          eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
          subject: '',
          eventTime: new Date().toISOString(),
          data: { url: 'x', validationCode: 'abc' },
        },
      ],
      { headers: { 'aeg-event-type': 'SubscriptionValidation' } },
    );
    expect(v.data).toEqual({ validationResponse: 'abc' });

    const storage = createStorageClients(loadConfig({ OrbiterLake: azurite.connectionString }));
    const raw = storage.blobs.getContainerClient('raw');
    await raw.createIfNotExists();
    const up = await raw.getBlockBlobClient('neows/x.json').upload('{"hello":1}', 11);
    const ev = (api: string) =>
      blobCreatedEvent({ accountUrl: azurite.blobEndpoint, container: 'raw', name: 'neows/x.json', etag: up.etag!, contentLength: 11, api });
    const r = await axios.post(url, [ev('FlushWithClose')], { headers: { 'aeg-event-type': 'Notification' } });
    expect(r.status).toBe(202);
    const hit = seen.filter((s) => s.fn === 'onBlob').pop()!;
    expect(hit.arg).toMatchObject({
      eventType: 'Microsoft.Storage.BlobCreated',
      subject: '/blobServices/default/containers/raw/blobs/neows/x.json',
      data: { api: 'FlushWithClose', eTag: up.etag, contentLength: 11 },
    });
    expect((await axios.post(url, [{ nope: 1 }], { validateStatus: () => true })).status).toBe(400);
    expect((await axios.post(url.replace(KEY, 'bad'), [ev('PutBlob')], { validateStatus: () => true })).status).toBe(401);
  });

  it('the blob watcher delivers each blob version once, also across restarts', async () => {
    const storage = createStorageClients(loadConfig({ OrbiterLake: azurite.connectionString }));
    const raw = storage.blobs.getContainerClient('raw');
    await raw.getBlockBlobClient('apod/a.json').upload('[1]', 3);
    const mk = () =>
      new BlobWatcher({
        targets: [{ container: raw, functionName: 'onBlob' }],
        receiptsTable: storage.table(Tables.blobReceipts),
        hostUrl: host.url,
        functionKey: KEY,
        accountUrl: azurite.blobEndpoint,
        logger: silentLogger,
      });
    const w1 = mk();
    expect(await w1.scanOnce()).toBe(2); // neows/x.json from the previous test and apod/a.json
    expect(await w1.scanOnce()).toBe(0);
    await raw.getBlockBlobClient('apod/a.json').upload('[1,2]', 5); // changed → new ETag → new event
    const w2 = mk(); // a restarted watcher reads its receipts back
    expect(await w2.scanOnce()).toBe(1);
    const changed = await raw.getBlobClient('apod/a.json').getProperties();
    expect(seen.filter((s) => s.fn === 'onBlob').pop()!.arg).toMatchObject({ data: { eTag: changed.etag!.replace(/"/g, ''), contentLength: 5 } });
  });

  it('completes Service Bus messages on success and abandons on error until they dead-letter', async () => {
    const client = new ServiceBusClient(sb.connectionString);
    try {
      const sender = client.createSender('run-status');
      await sender.sendMessages([
        { body: { ok: 1 }, messageId: 'm-ok', applicationProperties: { a: 'b' } },
        { body: { fail: true }, messageId: 'm-bad' },
      ]);
      await until('ok message', () => seen.find((s) => s.fn === 'onMsg' && (s.arg as { ok?: number }).ok === 1));
      // As the Functions host reports it: 1 on a first delivery (the AMQP header counts earlier attempts only).
      const okMeta = seen.find((s) => (s.arg as { ok?: number }).ok === 1)!.meta;
      expect(okMeta).toMatchObject({ messageId: 'm-ok', deliveryCount: 1, applicationProperties: { a: 'b' } });
      const dlq = client.createReceiver('run-status', { subQueueType: 'deadLetter' });
      const [dead] = await until(
        'dead letter',
        async () => {
          const m = await dlq.receiveMessages(1, { maxWaitTimeInMs: 500 });
          return m.length ? m : undefined;
        },
        30_000,
      );
      expect(dead!.messageId).toBe('m-bad');
      expect(dead!.deadLetterReason).toBe('MaxDeliveryCountExceeded');
      expect(seen.filter((s) => s.fn === 'onMsg' && (s.arg as { fail?: boolean }).fail).length).toBe(5); // MaxDeliveryCount
      await dlq.completeMessage(dead!);
      const peek = await client.createReceiver('run-status').peekMessages(10);
      expect(peek).toHaveLength(0); // the good one was completed
    } finally {
      await client.close();
    }
  });

  it('cardinality many: batches of at most maxMessageBatchSize; completed as a whole; a failure abandons the whole batch', async () => {
    const client = new ServiceBusClient(sb.connectionString);
    try {
      const n = 40;
      const bodies = Array.from({ length: n }, (_, i) => ({ i, ...(i === 30 ? { boom: true } : {}) }));
      await client.createSender('run-requests').sendMessages(bodies.map((body) => ({ body, messageId: `b-${body.i}` })));
      const okMembers = (): Set<number> => {
        const done = new Set<number>();
        for (const b of batches) for (const x of b.bodies) done.add(x.i);
        return done;
      };
      // Wait for the whole failed batch to come back: its members may be redelivered across several batches.
      const failedRedelivered = (): boolean => {
        const failed = batches.find((b) => b.bodies.some((x) => x.boom));
        if (!failed) return false;
        const again = new Set(batches.flatMap((b) => (b === failed ? [] : b.bodies.filter((_, k) => b.counts[k] === 2).map((x) => x.i))));
        return failed.bodies.every((x) => again.has(x.i));
      };
      await until('every member handled', () => (okMembers().size === n && failedRedelivered() ? true : undefined), 30_000);
      expect(Math.max(...batches.map((b) => b.bodies.length))).toBeLessThanOrEqual(16);
      // Trigger metadata arrays line up with the bodies.
      for (const b of batches) expect(b.ids).toEqual(b.bodies.map((x) => `b-${x.i}`));
      // The failed batch came back whole, as a second delivery of each of its members.
      const failed = batches.find((b) => b.bodies.some((x) => x.boom))!;
      // (Its members may return split over several later batches, as receives in Azure may split them too.)
      const again = batches.filter((b) => b !== failed && b.counts.some((c) => c === 2));
      expect(again.some((b) => b.bodies.some((x) => x.boom))).toBe(true);
      const redelivered = new Set(again.flatMap((b) => b.bodies.filter((_, k) => b.counts[k] === 2).map((x) => x.i)));
      for (const x of failed.bodies) expect(redelivered.has(x.i)).toBe(true);

      await until(
        'queue empty',
        async () => ((await client.createReceiver('run-requests').peekMessages(50)).length === 0 ? true : undefined),
        10_000,
      );
      const inv = host.invocations.filter((i) => i.name === 'onBatch');
      expect(inv.filter((i) => !i.outcome.ok)).toHaveLength(1);
      expect(inv.filter((i) => i.outcome.ok).reduce((k, i) => k + (i.outcome.messages ?? 0), 0)).toBeGreaterThanOrEqual(n);
    } finally {
      await client.close();
    }
  });

  it('serviceBusAfter: Service Bus triggers start once it settles; a message sent before waits in its queue', async () => {
    // A host of its own on a broker of its own, so the shared host's receivers cannot take the message.
    const broker = await startServiceBusEmulator({ port: 0, config: resolve(__dirname, '..', '..', '..', 'servicebus-emulator', 'config.json') });
    const client = new ServiceBusClient(broker.connectionString);
    const got: unknown[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const settings = { OrbiterLake: azurite.connectionString, ServiceBusConnection: broker.connectionString };
    const config = loadConfig(settings);
    const gated = new FunctionHost({
      definitions: [
        {
          kind: 'serviceBusQueue',
          name: 'late',
          queueName: 'run-status',
          connection: 'ServiceBusConnection',
          handler: async (m) => void got.push(m),
        } satisfies ServiceBusQueueFunction,
      ],
      config,
      settings,
      storage: createStorageClients(config),
      functionKey: KEY,
      logger: silentLogger,
      port: await freePort(),
      serviceBus: true,
      serviceBusAfter: gate,
    });
    try {
      await gated.start();
      await client.createSender('run-status').sendMessages({ body: { early: true }, messageId: 'm-early' });
      // No receiver exists before the gate opens: the message is still in the queue, and nothing handled it.
      expect((await client.createReceiver('run-status').peekMessages(10)).map((m) => m.messageId)).toEqual(['m-early']);
      expect(got).toEqual([]);
      open();
      await until('the early message handled', () => (got.length ? got : undefined));
      expect(got).toEqual([{ early: true }]);
    } finally {
      await gated.stop();
      await client.close();
      await broker.close();
    }
  });
});
