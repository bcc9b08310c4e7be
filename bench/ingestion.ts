import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite } from '@orbiter/local-stack/azurite';
import { Containers } from '../shared/names';
import { freePort } from '@orbiter/local-stack/ports';
import { check, round, type BenchContext, type BenchResult } from './support/stats';

const MiB = 2 ** 20;

/** A local upstream serving `bytes` of JSON-shaped payload, generated on the fly (never held whole in memory). */
async function startPayloadServer(bytes: number): Promise<{ url: string; server: Server }> {
  const chunk = Buffer.from(`{"x":"${'a'.repeat(MiB - 9)}"},`);
  const server = createServer((req, res) => {
    const seed = new URL(req.url ?? '/', 'http://x').searchParams.get('seed') ?? '0';
    const head = Buffer.from(`{"seed":${JSON.stringify(seed)},"items":[`);
    const tail = Buffer.from('{}]}');
    const body = bytes - head.length - tail.length;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(head.length + body + tail.length) });
    res.write(head);
    let left = body;
    const pump = (): void => {
      while (left > 0) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      res.end(tail);
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/payload`, server };
}

function child(
  repoRoot: string,
  args: Record<string, unknown>,
): Promise<{ ms: number; maxRssMiB: number; blobName: string; written?: boolean; bytes?: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'dist', 'bench', 'ingestChild.js'), JSON.stringify(args)],
      { maxBuffer: 1 << 20, timeout: 30 * 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`ingest child failed: ${stderr || err.message}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as never);
      },
    );
  });
}

/**
 * 4. Ingestion: a large payload from a local HTTP server streamed into the lake by RawLakeStream.landStream (spool:
 * hash into a temp file, then upload it under the content-addressed name; copy: hash while staging, then a server-side
 * copy), against a plain @azure/storage-blob uploadStream of the same bytes; each in a fresh process (peak RSS of that
 * process). Alternating order, best of the repetitions. 'read' only reads and hashes the body: the part a landing
 * that names blobs by their hash cannot overlap with uploading them under that name.
 */
export async function ingestion(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const sizeMiB = ctx.files ?? (ctx.quick ? 128 : 1024);
  const reps = ctx.quick ? 1 : 2;
  const bufferSize = 8 * MiB;
  const maxConcurrency = 4;
  const dataDir = mkdtempSync(join(tmpdir(), 'orbiter-bench-ingest-'));
  const azurite = await startAzurite({
    repoRoot: ctx.repoRoot,
    dataDir,
    blobPort: await freePort(),
    queuePort: await freePort(),
    tablePort: await freePort(),
  });
  const { url, server } = await startPayloadServer(sizeMiB * MiB);
  const raw = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(Containers.raw);
  try {
    await raw.createIfNotExists();
    const runs: { mode: string; rep: number; ms: number; mibPerS: number; maxRssMiB: number }[] = [];
    const errors: { mode: string; rep: number; error: string }[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const modes = ['plain', 'spool', 'copy', 'read'] as const;
      for (const mode of rep % 2 === 0 ? modes : [...modes].reverse()) {
        ctx.log(`ingestion: ${mode} ${sizeMiB} MiB (rep ${rep + 1}/${reps})`);
        try {
          const r = await child(ctx.repoRoot, {
            mode,
            url: `${url}?seed=${rep}`,
            conn: azurite.connectionString,
            name: `bench/plain-${rep}.json`,
            bufferSize,
            maxConcurrency,
          });
          if ((mode === 'spool' || mode === 'copy') && r.written === false)
            throw new Error('stream landing found the payload already landed: the repetition measured nothing');
          runs.push({ mode, rep, ms: round(r.ms, 0), mibPerS: round(sizeMiB / (r.ms / 1000)), maxRssMiB: round(r.maxRssMiB) });
        } catch (err) {
          // One strategy failing must not hide the others' figures.
          errors.push({ mode, rep, error: (err instanceof Error ? err.message : String(err)).slice(0, 2000) });
          ctx.log(`ingestion: ${mode} failed: ${(err instanceof Error ? err.message : String(err)).slice(0, 300)}`);
        }
        // Keep the disk bounded: each repetition's blobs go once measured.
        for await (const b of raw.listBlobsFlat()) await raw.deleteBlob(b.name);
      }
    }
    const of = (m: string) => runs.filter((r) => r.mode === m);
    const best = (m: string) => (of(m).length ? Math.max(...of(m).map((r) => r.mibPerS)) : NaN);
    const peak = (m: string) => (of(m).length ? Math.max(...of(m).map((r) => r.maxRssMiB)) : NaN);
    const ratio = best('spool') / best('plain');
    const copyRatio = best('copy') / best('plain');
    // Spool reads (and hashes) everything before it can upload under the final name: at best read time + upload time.
    const spoolBound = 1 / (1 + best('plain') / best('read'));
    return {
      name: 'ingestion',
      figures: {
        sizeMiB,
        repetitions: reps,
        bufferSize,
        maxConcurrency,
        runs,
        errors,
        plainMiBPerS: best('plain'),
        spoolMiBPerS: best('spool'),
        copyMiBPerS: best('copy'),
        readMiBPerS: best('read'),
        ratio: round(ratio, 3),
        copyRatio: round(copyRatio, 3),
        spoolBoundRatio: round(spoolBound, 3),
        peakRssMiB: { plain: peak('plain'), spool: peak('spool'), copy: peak('copy') },
      },
      goals: [
        check(`landStream (spool) / plain upload throughput, ${sizeMiB} MiB`, round(ratio, 3), '>=', 0.9, '×'),
        check('landStream (spool) peak RSS', peak('spool'), '<=', 200, 'MiB'),
        check(`landStream (copy) / plain upload throughput, ${sizeMiB} MiB`, round(copyRatio, 3), '>=', 0.9, '×'),
        check('landStream (copy) peak RSS', peak('copy'), '<=', 200, 'MiB'),
      ],
      notes: [
        `plain ${best('plain')} MiB/s, spool ${best('spool')} MiB/s, copy ${best('copy')} MiB/s, read + sha256 only ${best('read')} MiB/s (best of ${reps}); all read the same local HTTP response and upload 8 MiB blocks, 4 in flight; plain peak RSS ${peak('plain')} MiB.`,
        `A content-addressed name is known only after the last byte, and blocks can only be committed to the blob they were staged on. Spool therefore reads the whole body (hashing into a temp file) before uploading it: it can reach at most 1 / (1 + plain/read) = ${round(spoolBound, 2)}× here, the price of naming by content without a server-side copy; it shrinks as the upstream gets slower than the lake (NASA is, this local server is not).`,
        'Copy overlaps reading with uploading (to a staging blob) and then copies server-side within the account, which Azurite does by reference and Azure within the service. In Azure the raw zone is not safe for it as deployed: the Event Grid filter passes PutBlob/PutBlockList/FlushWithClose only (a copy raises CopyBlob), and on a hierarchical-namespace account a copy that does not complete at once raises BlobCreated when it starts.',
      ],
      durationMs: Date.now() - started,
    };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await azurite.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
