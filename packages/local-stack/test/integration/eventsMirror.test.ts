import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startTestAzurite } from '../../../../test/support/azurite';
import { mirrorCompletionEvents } from '../../src/eventsMirror';

describe('completion events mirrored from the lake (Azurite) into the local workspace lake', () => {
  let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
  let lake: string;
  beforeAll(async () => {
    azurite = await startTestAzurite();
    lake = mkdtempSync(join(tmpdir(), 'orbiter-mirror-'));
  });
  afterAll(async () => {
    await azurite?.stop();
    rmSync(lake, { recursive: true, force: true });
  });

  it('copies each event under run-completions/ once, whole, and nothing else of the container', async () => {
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const events = blobs.getContainerClient('events');
    await events.createIfNotExists();
    const put = (name: string, body: string) => events.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
    await put('run-completions/date=2026-12-06/r1.a1.json', '{"orbiter_run_id":"r1"}');
    await put('run-completions/date=2026-12-06/r2.a1.json', '{"orbiter_run_id":"r2"}');
    await put('other/ignored.json', '{}');

    expect(await mirrorCompletionEvents(blobs, lake)).toBe(2);
    const day = join(lake, 'events', 'run-completions', 'date=2026-12-06');
    expect(readdirSync(day).sort()).toEqual(['r1.a1.json', 'r2.a1.json']); // no temporary files left
    expect(readFileSync(join(day, 'r2.a1.json'), 'utf8')).toBe('{"orbiter_run_id":"r2"}');
    expect(readdirSync(join(lake, 'events'))).toEqual(['run-completions']);

    // A file already there is kept (events never change); only new ones are copied.
    writeFileSync(join(day, 'r1.a1.json'), 'kept');
    await put('run-completions/date=2026-12-07/r3.a1.json', '{"orbiter_run_id":"r3"}');
    expect(await mirrorCompletionEvents(blobs, lake)).toBe(1);
    expect(readFileSync(join(day, 'r1.a1.json'), 'utf8')).toBe('kept');
  });
});
