import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { readBlobVersion } from '../../shared/lake/blobVersion';
import { RawLake } from '../../shared/lake/rawLake';
import { RawLakeStream } from '../../shared/lake/rawLakeStream';
import { OrbiterError } from '../../shared/errors';
import { Containers } from '../../shared/names';
import { startTestAzurite } from '../support/azurite';

jest.setTimeout(120_000);

const window = { start: '2024-05-25', end: '2024-05-31' };
const now = () => new Date('2024-06-10T12:00:00Z');
let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
let raw: ContainerClient;

/** A body delivered in small chunks, as an HTTP response would be. */
function chunked(buf: Buffer, chunk = 7_919): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= buf.length) return void this.push(null);
      this.push(buf.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

async function names(prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const b of raw.listBlobsFlat({ prefix })) out.push(b.name);
  return out.sort();
}

beforeAll(async () => {
  azurite = await startTestAzurite();
  raw = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(Containers.raw);
  await raw.createIfNotExists();
});
afterAll(async () => azurite?.stop());
beforeEach(async () => {
  for (const n of await names()) await raw.deleteBlob(n);
});

const spoolDir = mkdtempSync(join(tmpdir(), 'orbiter-spool-test-'));
afterAll(() => rmSync(spoolDir, { recursive: true, force: true }));

describe.each(['spool', 'copy'] as const)('RawLakeStream.landStream (%s)', (strategy) => {
  const lake = () => new RawLakeStream(raw, 'test-1', { strategy, spoolDir, bufferSize: 64 * 1024, maxConcurrency: 2, now });
  afterEach(() => expect(readdirSync(spoolDir)).toEqual([])); // no spooled body left behind, whatever happened

  it('lands a streamed body under the same content-addressed name and bytes as RawLake.land', async () => {
    const body = Buffer.from(JSON.stringify({ items: Array.from({ length: 5000 }, (_, i) => ({ i, v: `value-${i}` })) }));
    const res = await lake().landStream({ source: 'cmr', stream: 'granules', window, page: 3, body: chunked(body), recordCount: 5000 });

    const sha = createHash('sha256').update(body).digest('hex');
    expect(res).toMatchObject({ written: true, bytes: body.length, sha256: sha });
    expect(res.blobName).toBe(`cmr/granules/2024/05/25/2024-05-25_2024-05-31.p0003.${sha.slice(0, 16)}.json`);
    const blob = raw.getBlockBlobClient(res.blobName);
    expect((await blob.downloadToBuffer()).equals(body)).toBe(true);
    const props = await blob.getProperties();
    expect(props.etag).toBe(res.etag);
    expect(props.metadata).toMatchObject({
      source: 'cmr',
      stream: 'granules',
      windowstart: window.start,
      windowend: window.end,
      page: '3',
      recordcount: '5000',
      sha256: sha,
      orbiterversion: 'test-1',
      ingestedat: now().toISOString(),
    });
    // The buffered path names the same bytes identically, so both paths deduplicate against each other.
    const again = await new RawLake(raw, 'test-1', now).land({ source: 'cmr', stream: 'granules', window, page: 3, body, recordCount: 5000 });
    expect(again).toMatchObject({ blobName: res.blobName, written: false });
    expect(await names()).toEqual([res.blobName]); // no staging blob left behind
  });

  it('is idempotent: the same bytes streamed twice write nothing the second time and keep the first version', async () => {
    const body = Buffer.from('[{"a":1},{"a":2}]');
    const first = await lake().landStream({ source: 'apod', stream: 'apod', window, body: chunked(body, 3) });
    const second = await lake().landStream({ source: 'apod', stream: 'apod', window, body: chunked(body, 5) });
    expect(first.written).toBe(true);
    expect(second).toMatchObject({ blobName: first.blobName, written: false, sha256: first.sha256 });
    expect((await raw.getBlockBlobClient(first.blobName).getProperties()).etag).toBe(first.etag);
    expect(await names()).toEqual([first.blobName]);
  });

  it('lands changed content for the same window beside the old version', async () => {
    const a = await lake().landStream({ source: 'apod', stream: 'apod', window, body: chunked(Buffer.from('[1]')) });
    const b = await lake().landStream({ source: 'apod', stream: 'apod', window, body: chunked(Buffer.from('[1,2]')) });
    expect(a.blobName).not.toBe(b.blobName);
    expect(await names()).toEqual([a.blobName, b.blobName].sort());
  });

  it('concurrent landings of the same bytes write exactly one blob', async () => {
    const body = Buffer.alloc(300_000, 'x');
    const results = await Promise.all([0, 1, 2].map(() => lake().landStream({ source: 'eonet', stream: 'events', window, body: chunked(body) })));
    expect(results.filter((r) => r.written)).toHaveLength(1);
    expect(new Set(results.map((r) => r.blobName)).size).toBe(1);
    expect(await names()).toEqual([results[0]!.blobName]);
  });

  it('fails with a retryable error and lands nothing when the upstream body breaks mid-stream', async () => {
    let sent = 0;
    const broken = new Readable({
      read() {
        if (sent++ < 3) this.push(Buffer.alloc(50_000, 'y'));
        else this.destroy(new Error('socket hang up'));
      },
    });
    const err = await lake()
      .landStream({ source: 'neows', stream: 'feed', window, body: broken })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OrbiterError);
    expect(err).toMatchObject({ code: 'LakeWriteFailed', retryable: true });
    expect(await names()).toEqual([]);
  });
});

describe('RawLakeStream copy strategy', () => {
  it('stages in another container when told to, leaving raw with only the final blob', async () => {
    const staging = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging-test');
    await staging.createIfNotExists();
    const res = await new RawLakeStream(raw, 'test-1', { strategy: 'copy', staging, now }).landStream({
      source: 'donki',
      stream: 'FLR',
      window,
      body: chunked(Buffer.from('[]')),
    });
    expect(await names()).toEqual([res.blobName]);
    const left: string[] = [];
    for await (const b of staging.listBlobsFlat()) left.push(b.name);
    expect(left).toEqual([]);
  });
});

describe('RawLake cycle start', () => {
  it('is stored on every blob of the cycle and read back by the landing trigger’s HEAD; a malformed one is dropped', async () => {
    const cycle = '2024-06-10T11:59:58.250Z';
    const res = await new RawLake(raw, 'test-1', now, cycle).land({
      source: 'fireball',
      stream: 'fireball',
      window,
      body: Buffer.from('[{"a":1}]'),
      recordCount: 1,
    });
    expect(await readBlobVersion(raw, res.blobName)).toMatchObject({ sha256: res.sha256, cycleStartedAt: cycle });
    // Someone else's blob with a metadata value that is not a time: no cycle start (it coalesces by its own time).
    const forged = raw.getBlockBlobClient('fireball/fireball/2024/05/25/forged.json');
    await forged.upload('[]', 2, { metadata: { cyclestartedat: 'yesterday' } });
    expect(await readBlobVersion(raw, 'fireball/fireball/2024/05/25/forged.json')).not.toHaveProperty('cycleStartedAt');
  });
});
