import type { BlobServiceClient } from '@azure/storage-blob';
import { loadConfig } from '../../shared/config';
import { runIngestionCycle } from '../../shared/ingest/ingestCycle';
import { TableWatermarkStore } from '../../shared/ingest/watermarks';
import { silentLogger } from '../../shared/logger';
import { Containers, Tables } from '../../shared/names';
import { createStorageClients, type StorageClients } from '../../shared/storage/clients';
import { startReplayServer, type ReplayServer } from '@orbiter/nasa-replay/server';
import { startTestAzurite } from '../support/azurite';
import { fixtureCorpus } from '../support/replay';

const KEY = 'integration-key-abcdef123';
const now = () => new Date('2024-06-10T12:00:00Z');
let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
let replay: ReplayServer;

function setup(extra: Record<string, string> = {}) {
  const config = loadConfig({
    OrbiterLake: azurite.connectionString,
    NASA_API_KEY: KEY,
    INGEST_START_DATE: '2024-05-25',
    HTTP_MAX_RETRIES: '3',
    HTTP_TIMEOUT_MS: '3000',
    METEORITES_PAGE_SIZE: '5',
    CMR_PAGE_SIZE: '2',
    ...replay.settings,
    ...extra,
  });
  return { config, storage: createStorageClients(config) };
}

async function listBlobs(blobs: BlobServiceClient, container: string): Promise<{ name: string; metadata: Record<string, string> }[]> {
  const c = blobs.getContainerClient(container);
  if (!(await c.exists())) return [];
  const out = [];
  for await (const b of c.listBlobsFlat({ includeMetadata: true })) out.push({ name: b.name, metadata: b.metadata ?? {} });
  return out;
}

async function reset(storage: StorageClients): Promise<void> {
  for (const c of [Containers.raw, Containers.quarantine]) await storage.blobs.getContainerClient(c).deleteIfExists();
  await storage.table(Tables.watermarks).deleteTable();
}

beforeAll(async () => {
  azurite = await startTestAzurite();
  replay = await startReplayServer(fixtureCorpus());
}, 60_000);
afterAll(async () => {
  await replay?.close();
  await azurite?.stop();
});

describe('ingestion into Azurite', () => {
  it('lands every stream with metadata, and a second cycle over the same content writes nothing', async () => {
    const { config, storage } = setup();
    await reset(storage);
    const first = await runIngestionCycle({ config, storage, logger: silentLogger, now });
    expect(first.ok).toBe(true);
    const bySource = Object.fromEntries(first.streams.map((s) => [`${s.source}/${s.stream}`, s]));
    expect(Object.keys(bySource)).toHaveLength(10);
    for (const s of first.streams) expect(s.errors).toEqual([]);
    expect(bySource['neows/feed']!.records).toBeGreaterThan(15);
    expect(bySource['meteorites/landings']!.blobsWritten).toBe(3); // 14 rows, pages of 5
    expect(bySource['cmr/granules']!.records).toBe(6);
    const blobs = await listBlobs(storage.blobs, Containers.raw);
    expect(blobs.length).toBe(first.streams.reduce((n, s) => n + s.blobsWritten, 0));
    const sample = blobs.find((b) => b.name.startsWith('neows/feed/2024/05/25/'))!;
    expect(sample.metadata).toMatchObject({
      source: 'neows',
      stream: 'feed',
      windowstart: '2024-05-25',
      windowend: '2024-05-31',
      orbiterversion: '0.1.0',
    });
    expect(sample.metadata['sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(sample.metadata['recordcount'])).toBeGreaterThan(0);
    // No API key ever lands in the lake.
    for (const b of blobs) {
      const text = (await storage.blobs.getContainerClient(Containers.raw).getBlobClient(b.name).downloadToBuffer()).toString();
      expect(text).not.toContain(KEY);
    }

    // The watermarks moved past finished windows; today stays open.
    const marks = new TableWatermarkStore(storage.table(Tables.watermarks));
    expect((await marks.get('neows', 'feed'))?.nextStart).toBe('2024-06-10');
    expect((await marks.get('meteorites', 'landings'))?.nextStart).toBe('2024-06-11');

    // Forget the watermarks and run again: the very same windows are fetched, find the same bytes, write nothing.
    await storage.table(Tables.watermarks).deleteTable();
    const again = await runIngestionCycle({ config, storage, logger: silentLogger, now });
    expect(again.streams.reduce((n, s) => n + s.blobsWritten, 0)).toBe(0);
    expect(again.streams.reduce((n, s) => n + s.blobsSkipped, 0)).toBeGreaterThan(0);
    expect((await listBlobs(storage.blobs, Containers.raw)).length).toBe(blobs.length);
  });

  it('survives a 429 storm with Retry-After', async () => {
    const { config, storage } = setup({ INGEST_SOURCES: 'apod' });
    await reset(storage);
    replay.addFault({ path: '^/planetary/apod', kind: 'status', status: 429, retryAfter: '0', count: 2 });
    const s = await runIngestionCycle({ config, storage, logger: silentLogger, now });
    expect(s.ok).toBe(true);
    expect(s.streams[0]!.records).toBe(14);
  });

  it('quarantines a malformed payload, reports it, and does not move the watermark past it', async () => {
    const { config, storage } = setup({ INGEST_SOURCES: 'donki' });
    await reset(storage);
    replay.addFault({ path: '^/DONKI/CME', kind: 'malformed', count: 1 });
    const s = await runIngestionCycle({ config, storage, logger: silentLogger, now });
    expect(s.ok).toBe(false);
    const cme = s.streams.find((x) => x.stream === 'CME')!;
    expect(cme.errors[0]).toMatch(/DONKI CME: response is not valid JSON/);
    expect(cme.quarantined).toHaveLength(1);
    const q = await listBlobs(storage.blobs, Containers.quarantine);
    expect(q).toHaveLength(1);
    expect(q[0]!.metadata['reason']).toMatch(/not valid JSON/);
    const body = await storage.blobs.getContainerClient(Containers.quarantine).getBlobClient(q[0]!.name).downloadToBuffer();
    expect(body.toString()).toBe('{"this is": not json'); // kept byte for byte
    const marks = new TableWatermarkStore(storage.table(Tables.watermarks));
    expect(await marks.get('donki', 'CME')).toBeUndefined();
    // The other DONKI streams were not held back by CME's failure.
    expect(s.streams.find((x) => x.stream === 'FLR')!.errors).toEqual([]);
    // Next cycle (upstream healthy again) lands CME normally.
    const next = await runIngestionCycle({ config, storage, logger: silentLogger, now });
    expect(next.streams.find((x) => x.stream === 'CME')!.errors).toEqual([]);
    expect(next.streams.find((x) => x.stream === 'CME')!.records).toBe(4);
  });

  it('a crash between upload and watermark update neither loses nor duplicates data', async () => {
    const { config, storage } = setup({ INGEST_SOURCES: 'neows' });
    await reset(storage);
    // Simulate the process dying right after the first window's blob landed: the watermark write never happens.
    const table = storage.table(Tables.watermarks);
    const crashing: StorageClients = {
      blobs: storage.blobs,
      table: (name) => {
        const t = storage.table(name);
        if (name !== Tables.watermarks) return t;
        return Object.assign(Object.create(Object.getPrototypeOf(t) as object) as object, t, {
          createEntity: () => Promise.reject(new Error('process killed')),
          updateEntity: () => Promise.reject(new Error('process killed')),
        });
      },
    };
    await expect(runIngestionCycle({ config, storage: crashing, logger: silentLogger, now })).rejects.toThrow('process killed');
    const afterCrash = await listBlobs(storage.blobs, Containers.raw);
    expect(afterCrash).toHaveLength(1);
    expect(await new TableWatermarkStore(table).get('neows', 'feed')).toBeUndefined();

    // Restarted process: the window is fetched again, its blob is recognised, and the rest follows.
    const s = await runIngestionCycle({ config, storage, logger: silentLogger, now });
    expect(s.ok).toBe(true);
    const after = await listBlobs(storage.blobs, Containers.raw);
    expect(s.streams[0]!.blobsSkipped).toBe(1);
    expect(after.length).toBe(1 + s.streams[0]!.blobsWritten);
    expect(new Set(after.map((b) => b.metadata['windowstart'])).size).toBe(after.length); // one blob per window
  });

  it('starts a source at its own INGEST_START_DATES day and moves the watermark once over a run of empty windows', async () => {
    const { config, storage } = setup({ INGEST_SOURCES: 'epic', INGEST_START_DATES: 'epic=2024-05-01', INGEST_MAX_WINDOWS_PER_RUN: '100' });
    await reset(storage);
    let writes = 0;
    const counting: StorageClients = {
      blobs: storage.blobs,
      table: (name) => {
        const t = storage.table(name);
        if (name !== Tables.watermarks) return t;
        const count =
          <A extends unknown[], R>(f: (...a: A) => R) =>
          (...a: A): R => {
            writes++;
            return f(...a);
          };
        return Object.assign(Object.create(Object.getPrototypeOf(t) as object) as object, t, {
          createEntity: count(t.createEntity.bind(t)),
          updateEntity: count(t.updateEntity.bind(t)),
        });
      },
    };
    const s = await runIngestionCycle({ config, storage: counting, logger: silentLogger, now });
    const epic = s.streams[0]!;
    expect(epic.windows[0]).toEqual({ start: '2024-05-01', end: '2024-05-01' }); // not INGEST_START_DATE (2024-05-25)
    expect(epic.windows).toHaveLength(41); // 2024-05-01 … 2024-06-10, one day each
    expect(epic.blobsWritten).toBeGreaterThan(0);
    // One write per window that landed, one for the empty days after the last of them; never one per empty day.
    expect(writes).toBe(epic.blobsWritten + 1);
    expect((await new TableWatermarkStore(storage.table(Tables.watermarks)).get('epic', 'natural'))?.nextStart).toBe('2024-06-10');
  });

  it('changed upstream content for a window lands as a new version beside the old one', async () => {
    const { config, storage } = setup({ INGEST_SOURCES: 'epic' });
    await reset(storage);
    const range = { from: '2024-05-31', to: '2024-05-31' };
    await runIngestionCycle({ config, storage, logger: silentLogger, now, range });
    const other = await startReplayServer({ ...fixtureCorpus(), epic: fixtureCorpus().epic.slice(0, 4) });
    try {
      const cfg2 = loadConfig({
        ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])),
        INGEST_SOURCES: 'epic',
        ...other.settings,
      });
      const s = await runIngestionCycle({ config: cfg2, storage, logger: silentLogger, now, range });
      expect(s.streams[0]!.blobsWritten).toBe(1);
    } finally {
      await other.close();
    }
    const versions = (await listBlobs(storage.blobs, Containers.raw)).filter((b) => b.name.startsWith('epic/natural/2024/05/31/'));
    expect(versions).toHaveLength(2);
  });
});
