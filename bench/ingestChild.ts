import { createHash } from 'node:crypto';
import { get } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { BlobServiceClient } from '@azure/storage-blob';
import { RawLakeStream } from '../shared/lake/rawLakeStream';
import { Containers } from '../shared/names';

/**
 * One ingestion measurement in a fresh process, so its peak RSS is the landing path's alone:
 * `node ingestChild.js '{"mode":"plain"|"spool"|"copy"|"read","url":...,"conn":...,"name":...}'` prints one JSON line
 * ('read' only reads and hashes the body: the part a content-addressed landing cannot overlap with its upload).
 */
interface Args {
  mode: 'plain' | 'spool' | 'copy' | 'read';
  url: string;
  conn: string;
  name: string;
  bufferSize: number;
  maxConcurrency: number;
}

function fetchStream(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get(url, (res) => (res.statusCode === 200 ? resolve(res) : reject(new Error(`GET ${url} answered ${res.statusCode}`)))).on('error', reject);
  });
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as Args;
  const raw = BlobServiceClient.fromConnectionString(a.conn).getContainerClient(Containers.raw);
  const t0 = process.hrtime.bigint();
  const res = await fetchStream(a.url);
  let out: Record<string, unknown>;
  if (a.mode === 'read') {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    out = { blobName: '', bytes, sha256: hash.digest('hex') };
  } else if (a.mode === 'plain') {
    // The baseline: the SDK's own streaming upload of the same response, no hashing, no copy.
    const r = await raw
      .getBlockBlobClient(a.name)
      .uploadStream(res, a.bufferSize, a.maxConcurrency, { blobHTTPHeaders: { blobContentType: 'application/json' } });
    out = { blobName: a.name, etag: r.etag };
  } else {
    const lake = new RawLakeStream(raw, 'bench', { strategy: a.mode, bufferSize: a.bufferSize, maxConcurrency: a.maxConcurrency });
    out = { ...(await lake.landStream({ source: 'cmr', stream: 'granules', window: { start: '2024-05-25', end: '2024-05-25' }, body: res })) };
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ...out, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  const cause = (err as { cause?: { message?: string; statusCode?: number; code?: string } }).cause;
  if (cause) console.error(`cause: ${cause.statusCode ?? ''} ${cause.code ?? ''} ${cause.message ?? String(cause)}`.slice(0, 1000));
  process.exit(1);
});
