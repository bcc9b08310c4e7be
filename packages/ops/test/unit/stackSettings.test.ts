import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nasaUrlSettings } from 'orbiter/shared/config';
import type { CycleOptions, CycleSummary } from 'orbiter/shared/ingest/ingestCycle';
import { runCli } from '../../src/cli/program';
import type { CliIO } from '../../src/cli/io';
import { ExitCode } from '../../src/cli/exitCodes';
import { cliSettings } from '../../src/cli/settings';
import { readStackSettings, removeStackSettings, stackSettingsPath, writeStackSettings } from '../../src/cli/stackSettings';

const REPO = resolve(__dirname, '../../../..');
// A pid no Linux system hands out (pid_max is at most 2^22): a stack that wrote it is gone.
const GONE_PID = 99_999_999;

const replayUrls = Object.fromEntries(nasaUrlSettings.map((k) => [k, `http://127.0.0.1:4999/${k.toLowerCase()}`]));
const stackValues = {
  OrbiterLake: 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:20000/devstoreaccount1;',
  ServiceBusConnection: 'Endpoint=sb://127.0.0.1:25672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=k;UseDevelopmentEmulator=true;',
  NASA_MODE: 'replay',
  ...replayUrls,
  INGEST_START_DATE: '2024-05-25',
  ORBITER_FUNCTION_KEY: 'stack-key-0123456789',
  ORBITER_API_URL: 'http://127.0.0.1:17071/api',
};

function io(cwd: string, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), env, cwd };
  return { io: x, out, err };
}

describe('the local stack publishes its settings; the CLI finds them', () => {
  let cwd: string;
  let dataDir: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'orbiter-cli-stack-'));
    dataDir = join(cwd, '.orbiter');
    mkdirSync(dataDir);
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('writes only the published keys, atomically and private, and removes only its own file', () => {
    const file = writeStackSettings(dataDir, { ...stackValues, SECRET_FROM_ENV: 'x', PATH: '/usr/bin' });
    const body = JSON.parse(readFileSync(file, 'utf8')) as { Values: Record<string, string>; pid: number };
    expect(body.Values).toEqual(stackValues);
    expect(body.pid).toBe(process.pid);
    expect(statSync(file).mode & 0o077).toBe(0);
    removeStackSettings(dataDir, GONE_PID); // not the writer: stays
    expect(readStackSettings(dataDir).kind).toBe('ok');
    removeStackSettings(dataDir);
    expect(readStackSettings(dataDir).kind).toBe('none');
  });

  it('the stack fills what is unset; local.settings.json and the environment still win', () => {
    writeStackSettings(dataDir, stackValues);
    expect(cliSettings(cwd, {})['ServiceBusConnection']).toBe(stackValues.ServiceBusConnection);
    writeFileSync(join(cwd, 'local.settings.json'), JSON.stringify({ Values: { ServiceBusConnection: 'from-file' } }));
    expect(cliSettings(cwd, {})['ServiceBusConnection']).toBe('from-file');
    expect(cliSettings(cwd, { ServiceBusConnection: 'from-env' })['ServiceBusConnection']).toBe('from-env');
    // A data folder elsewhere (npm start -- --data-dir …) is found through ORBITER_DATA_DIR.
    const other = mkdtempSync(join(tmpdir(), 'orbiter-cli-other-'));
    try {
      writeStackSettings(other, { ...stackValues, ServiceBusConnection: 'elsewhere' });
      expect(cliSettings(join(cwd, 'sub'), { ORBITER_DATA_DIR: other })['ServiceBusConnection']).toBe('elsewhere');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a file left by a stack that is gone is ignored, and the error says so', async () => {
    writeStackSettings(dataDir, stackValues, GONE_PID);
    expect(readStackSettings(dataDir)).toEqual({ kind: 'stale', pid: GONE_PID, file: stackSettingsPath(dataDir) });
    expect(cliSettings(cwd, {})['ServiceBusConnection']).toBeUndefined();
    const t = io(cwd);
    expect(await runCli(['dlq', 'list'], t.io)).toBe(ExitCode.usage);
    expect(t.err.join('\n')).toMatch(new RegExp(`pid ${GONE_PID}\\) is no longer running`));
  });

  it('without a stack, the missing-setting error says to start it', async () => {
    const t = io(cwd);
    expect(await runCli(['events', 'tail'], t.io)).toBe(ExitCode.usage);
    expect(t.err.join('\n')).toMatch(/set ServiceBusConnection .*start the local stack \(npm start\)/);
  });

  it('runs use the running stack’s API URL and function key', async () => {
    const seen: { url: string; key: string | undefined }[] = [];
    const server: Server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', key: req.headers['x-functions-key'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ runs: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
      writeStackSettings(dataDir, { ...stackValues, ORBITER_API_URL: api });
      expect(await runCli(['runs', 'list', '--json'], io(cwd).io)).toBe(ExitCode.ok);
      expect(seen).toEqual([{ url: '/api/runs', key: stackValues.ORBITER_FUNCTION_KEY }]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('orbiter ingest now with the example settings stays in replay', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'orbiter-cli-replay-'));
    mkdirSync(join(cwd, '.orbiter'));
    // Exactly what the README tells a newcomer to do.
    copyFileSync(join(REPO, 'local.settings.example.json'), join(cwd, 'local.settings.json'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  const ok: CycleSummary = { startedAt: '', finishedAt: '', ok: true, streams: [] };

  it('without a running stack it refuses (exit 2, naming the replay URLs) and never ingests', async () => {
    const t = io(cwd);
    let ran = false;
    const code = await runCli(['ingest', 'now', '--source', 'apod'], t.io, {
      runIngestionCycle: async () => {
        ran = true;
        return ok;
      },
    });
    expect(code).toBe(ExitCode.usage);
    expect(ran).toBe(false);
    expect(t.err.join('\n')).toMatch(/NASA_API_BASE_URL: NASA_MODE=replay needs the replay server URL/);
    expect(t.err.join('\n')).toMatch(/start the local stack \(npm start\)/);
  });

  it('with the stack running it uses the stack’s replay server, not live NASA', async () => {
    writeStackSettings(join(cwd, '.orbiter'), stackValues);
    let seen: CycleOptions | undefined;
    const code = await runCli(['ingest', 'now', '--source', 'apod'], io(cwd).io, {
      runIngestionCycle: async (o) => {
        seen = o;
        return ok;
      },
    });
    expect(code).toBe(ExitCode.ok);
    expect(seen?.config.NASA_MODE).toBe('replay');
    for (const k of nasaUrlSettings) expect(seen?.config[k]).toBe(replayUrls[k]);
  });
});
