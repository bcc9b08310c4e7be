import { request as httpRequest } from 'node:http';
import { FunctionHost } from '@orbiter/functions-host';
import { freePort } from '@orbiter/local-stack/ports';
import { databricksWebhook } from '../../../functions/databricksWebhook';
import type { FunctionDefinition, HttpFunction } from '../../../functions/definition';
import { runsCreate } from '../../../functions/runsCreate';
import { loadConfig } from '../../../shared/config';
import { silentLogger } from '../../../shared/logger';
import { createStorageClients } from '../../../shared/storage/clients';

const KEY = 'large-body-test-key';
const MB = 1024 * 1024;

/**
 * Streams `total` bytes as a chunked POST from one reused 64 KiB buffer (so the client holds nothing), stopping when
 * the server answers: the memory attack of issue 16 (six concurrent 95 MB bodies took the host from 275 MB to 1.09 GB).
 */
function streamedPost(url: string, headers: Record<string, string>, total: number): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers });
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, sent });
        req.destroy();
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const pump = (): void => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('request bodies are limited while they stream in (local functions host)', () => {
  let host: FunctionHost;
  let capped: FunctionHost;
  let reachedApi = 0;
  const reads: HttpFunction = {
    kind: 'http',
    name: 'readsAll',
    route: 'reads-all',
    methods: ['POST'],
    authLevel: 'function',
    // A function that reads whatever it is given: only the host's own limit stands between it and the upload.
    handler: async (req) => ({ status: 200, jsonBody: { bytes: (await req.arrayBuffer()).byteLength } }),
  };

  const startHost = async (definitions: FunctionDefinition[], maxBodyBytes?: number): Promise<FunctionHost> => {
    const settings = { OrbiterLake: 'UseDevelopmentStorage=true' };
    const config = loadConfig(settings);
    const h = new FunctionHost({
      definitions,
      config,
      settings,
      storage: createStorageClients(config),
      functionKey: KEY,
      logger: silentLogger,
      port: await freePort(),
      timers: false,
      serviceBus: false,
      ...(maxBodyBytes ? { maxBodyBytes } : {}),
    });
    await h.start();
    return h;
  };

  beforeAll(async () => {
    // The default host limit (100 MB, as in Azure): only the functions' own limits stop a 95 MB upload.
    host = await startHost([
      runsCreate({ apiAuthMode: 'function-key', runApi: () => (reachedApi++, Promise.reject(new Error('the body should have been refused'))) }),
      databricksWebhook({ dispatch: () => Promise.reject(new Error('the body should have been refused')) }),
      { kind: 'blobEvent', name: 'onBlob', container: 'raw', handler: () => Promise.reject(new Error('the body should have been refused')) },
    ]);
    capped = await startHost([reads], 8 * MB);
  }, 60_000);

  afterAll(async () => {
    await host?.stop();
    await capped?.stop();
  });

  it('six concurrent 95 MB uploads to the Run API and the webhook: all 413 problem+json, the RSS grows < 50 MB', async () => {
    const headers = { 'content-type': 'application/json', 'x-functions-key': KEY };
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => streamedPost(`${host.url}/api/${i % 2 ? 'hooks/databricks-jobs' : 'runs'}`, headers, 95 * MB)),
    ).finally(() => clearInterval(sampler));
    peak = Math.max(peak, process.memoryUsage().rss);
    for (const a of answers) {
      expect(a.status).toBe(413);
      expect(JSON.parse(a.body)).toMatchObject({ status: 413 });
      expect(a.sent).toBeLessThan(95 * MB); // cut off, not read to the end
    }
    expect(reachedApi).toBe(0);
    expect((peak - before) / MB).toBeLessThan(50);
  });

  it('a declared Content-Length over the limit is refused before the body is read', async () => {
    const res = await fetch(`${host.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': KEY },
      body: Buffer.alloc(65 * 1024, 0x20),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it("the host's own limit holds for a function that reads everything: 413, the upload cut off", async () => {
    const small = await fetch(`${capped.url}/api/reads-all`, { method: 'POST', headers: { 'x-functions-key': KEY }, body: 'abc' });
    expect(await small.json()).toEqual({ bytes: 3 });
    const big = await streamedPost(`${capped.url}/api/reads-all`, { 'x-functions-key': KEY }, 95 * MB);
    expect(big.status).toBe(413);
    expect(big.sent).toBeLessThan(95 * MB);
  });

  it('the Event Grid webhook stops reading a 95 MB batch at its 1 MiB limit: 413', async () => {
    const url = `${host.url}/runtime/webhooks/eventgrid?functionName=onBlob`;
    const big = await streamedPost(url, { 'content-type': 'application/json', 'x-functions-key': KEY, 'aeg-event-type': 'Notification' }, 95 * MB);
    expect(big.status).toBe(413);
    expect(big.sent).toBeLessThan(95 * MB);
  });
});
