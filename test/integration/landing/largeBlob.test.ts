import { FunctionHost } from '@orbiter/functions-host';
import { blobCreatedEvent } from '@orbiter/functions-host/eventGrid';
import { freePort } from '@orbiter/local-stack/ports';
import axios from 'axios';
import { landedBlob } from '../../../functions/landedBlob';
import { loadConfig } from '../../../shared/config';
import { readBlobVersion } from '../../../shared/lake/blobVersion';
import { silentLogger } from '../../../shared/logger';
import { runRequestV1, type RunRequest } from '../../../shared/messages/runRequest';
import { Containers } from '../../../shared/names';
import { createStorageClients } from '../../../shared/storage/clients';
import { startTestAzurite } from '../../support/azurite';

const KEY = 'large-blob-test-key';
const TWO_GB = 2 * 1024 ** 3;

/**
 * Landing reads a blob's properties, never its content: a 2 GB blob becomes a run request while the host's memory
 * stays flat. The blob is a sparse page blob (2 GB long, one page written), so Azurite stores almost nothing, yet
 * anything that downloaded it would pull 2 GB through the host.
 */
describe('landing a 2 GB blob', () => {
  let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
  let host: FunctionHost;
  const sent: { messageId: string; request: RunRequest }[] = [];

  beforeAll(async () => {
    azurite = await startTestAzurite();
    const settings = { OrbiterLake: azurite.connectionString };
    const config = loadConfig(settings);
    const storage = createStorageClients(config);
    const raw = storage.blobs.getContainerClient(Containers.raw);
    await raw.createIfNotExists();
    host = new FunctionHost({
      definitions: [
        landedBlob({
          sendRunRequest: (messageId, request) => (sent.push({ messageId, request: runRequestV1.parse(request) }), Promise.resolve()),
          rawBlobVersion: (name) => readBlobVersion(raw, name),
          now: () => new Date(),
        }),
      ],
      config,
      settings,
      storage,
      functionKey: KEY,
      logger: silentLogger,
      port: await freePort(),
      timers: false,
      serviceBus: false,
    });
    await host.start();
  }, 120_000);

  afterAll(async () => {
    await host?.stop();
    await azurite?.stop();
  });

  it('sends the run request with the host RSS growing by less than 50 MB', async () => {
    const storage = createStorageClients(loadConfig({ OrbiterLake: azurite.connectionString }));
    const name = 'cmr/granules/2024/05/25/MYD021KM.A2024146.hdf';
    const blob = storage.blobs.getContainerClient(Containers.raw).getPageBlobClient(name);
    await blob.create(TWO_GB);
    const page = Buffer.alloc(512, 0x20);
    await blob.uploadPages(page, 0, page.length);
    const props = await blob.getProperties();
    expect(props.contentLength).toBe(TWO_GB);

    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      const event = blobCreatedEvent({ accountUrl: azurite.blobEndpoint, container: Containers.raw, name, etag: props.etag!, contentLength: TWO_GB });
      const res = await axios.post(`${host.url}/runtime/webhooks/eventgrid`, [event], {
        params: { functionName: 'landedBlob', code: KEY },
        headers: { 'aeg-event-type': 'Notification' },
        validateStatus: () => true,
        timeout: 120_000,
      });
      expect(res.status).toBe(202);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request.inputs).toEqual([{ container: Containers.raw, path: name, etag: props.etag, size: TWO_GB }]);
    const growthMb = (peak - before) / 1024 ** 2;
    expect(growthMb).toBeLessThan(50);
  }, 180_000);
});
