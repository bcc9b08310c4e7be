import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDatabricksEmulator, type DatabricksEmulator } from '@orbiter/databricks-emulator';
import { FunctionHost } from '@orbiter/functions-host';
import { freePort } from '@orbiter/local-stack/ports';
import type { HttpFunction } from '../../../functions/definition';
import { loadConfig } from '../../../shared/config';
import { silentLogger } from '../../../shared/logger';
import { createStorageClients } from '../../../shared/storage/clients';

const KEY = 'host-header-test-key';

/** A GET with a chosen Host header, as a browser sends it after a DNS rebinding (fetch cannot set Host). */
function get(url: string, host: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { ...headers, host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** DNS rebinding: a hostile page whose name resolves to 127.0.0.1 reaches local servers with its own name in Host. */
describe('local HTTP servers answer only their own Host names', () => {
  let host: FunctionHost;
  let dbx: DatabricksEmulator;
  let work: string;
  const open: HttpFunction = {
    kind: 'http',
    name: 'open',
    route: 'open',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: () => Promise.resolve({ status: 204 }),
  };

  beforeAll(async () => {
    const settings = { OrbiterLake: 'UseDevelopmentStorage=true' };
    const config = loadConfig(settings);
    host = new FunctionHost({
      definitions: [open],
      config,
      settings,
      storage: createStorageClients(config),
      functionKey: KEY,
      logger: silentLogger,
      port: await freePort(),
    });
    await host.start();
    work = mkdtempSync(join(tmpdir(), 'orbiter-hosthdr-'));
    dbx = await startDatabricksEmulator({ workDir: join(work, 'work'), lakeRoot: join(work, 'lake') });
  }, 60_000);

  afterAll(async () => {
    await host?.stop();
    await dbx?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('functions host: loopback names on its port pass, a rebinding name or another port gets 421', async () => {
    const port = new URL(host.url).port;
    for (const name of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost']) expect(await get(`${host.url}/api/open`, name)).toBe(204);
    for (const name of [`evil.example:${port}`, 'attacker.test', `localhost:${Number(port) + 1}`])
      expect(await get(`${host.url}/api/open`, name)).toBe(421);
    expect(await get(`${host.url}/admin/host/status`, `rebind.example:${port}`)).toBe(421);
  });

  it('Databricks emulator: the same, even with the right token', async () => {
    const port = new URL(dbx.url).port;
    const auth = { authorization: `Bearer ${dbx.token}` };
    expect(await get(`${dbx.url}/api/2.2/jobs/list`, `127.0.0.1:${port}`, auth)).toBe(200);
    expect(await get(`${dbx.url}/api/2.2/jobs/list`, `rebind.example:${port}`, auth)).toBe(421);
  });
});
