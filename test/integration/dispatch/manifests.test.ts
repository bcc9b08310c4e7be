import { BlobServiceClient } from '@azure/storage-blob';
import { InputManifestSchema } from '../../../shared/catalog';
import { MAX_INPUTS_PER_RUN } from '../../../shared/dispatch/flush';
import { BlobManifestStore } from '../../../shared/dispatch/manifests';
import { isOrbiterError } from '../../../shared/errors';
import { Containers } from '../../../shared/names';
import { startTestAzurite } from '../../support/azurite';

/** The manifest store against Azurite: what a notebook (or the local emulator) will read back. */
describe('blob manifest store (Azurite)', () => {
  let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
  let service: BlobServiceClient;
  beforeAll(async () => {
    azurite = await startTestAzurite();
    service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    await service.getContainerClient(Containers.events).createIfNotExists();
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  const files = (n: number, salt = '') =>
    Array.from({ length: n }, (_, i) => ({
      container: 'raw',
      path: `neows/feed/2026/11/24/2026-11-24_2026-11-24.p${String(i + 1).padStart(4, '0')}.${'cd'.repeat(8)}.json`,
      etag: `"0x8DD${salt}${i}"`,
    }));

  it('writes {"files":[...]} as JSON under manifests/<dataset>/<runId>.json, once per run however often it is put', async () => {
    const events = service.getContainerClient(Containers.events);
    const store = new BlobManifestStore(events);
    const input = files(MAX_INPUTS_PER_RUN);
    const ref = await store.put('neows-20261124T1000-abc', 'neows', input);
    expect(ref).toEqual({ container: 'events', path: 'manifests/neows/neows-20261124T1000-abc.json' });

    const blob = events.getBlobClient(ref.path);
    const props = await blob.getProperties();
    expect(props.contentType).toBe('application/json');
    const stored = InputManifestSchema.parse(JSON.parse((await blob.downloadToBuffer()).toString('utf8')));
    expect(stored.files).toEqual(input);

    // A replayed dispatch puts the same run again: same blob, same content.
    expect(await store.put('neows-20261124T1000-abc', 'neows', input)).toEqual(ref);
    const names: string[] = [];
    for await (const b of events.listBlobsFlat({ prefix: 'manifests/' })) names.push(b.name);
    expect(names).toEqual([ref.path]);
    expect(JSON.parse((await blob.downloadToBuffer()).toString('utf8'))).toEqual({ files: input });

    // Another run of the dataset gets a blob of its own.
    const other = await store.put('neows-20261124T1001-def', 'neows', files(2, 'f'));
    expect(other.path).toBe('manifests/neows/neows-20261124T1001-def.json');
    expect(JSON.parse((await events.getBlobClient(other.path).downloadToBuffer()).toString('utf8')).files).toHaveLength(2);
  });

  it('a failed write is a retryable LakeWriteFailed that names the blob', async () => {
    const store = new BlobManifestStore(service.getContainerClient('no-such-container'));
    const err = await store.put('r1', 'neows', files(1)).catch((e: unknown) => e);
    expect(isOrbiterError(err, 'LakeWriteFailed')).toBe(true);
    expect(err).toMatchObject({ retryable: true, message: expect.stringContaining('no-such-container/manifests/neows/r1.json') });
  });
});
