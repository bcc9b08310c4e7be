import { resolve } from 'node:path';
import { TableWatermarkStore } from '../../shared/ingest/watermarks';
import { Containers, Tables } from '../../shared/names';
import { startFaultStack, type FaultStack } from './support/faultStack';
import { waitFor } from './support/files';
import { landedFiles, settle, summary, violations } from './support/ledger';

jest.setTimeout(180_000);

/**
 * NASA misbehaving under the real ingestion timer (every 2 s in the host): 429 storms with Retry-After, responses
 * slower than HTTP_TIMEOUT_MS, a 5xx burst longer than the retry budget, and malformed JSON. Ingestion retries and
 * lands the data, or quarantines the bad payload with its reason; a watermark never moves past a window that did not
 * land; and every file that lands still ends in exactly one successful run.
 */
describe('faults: NASA 429s, timeouts, 5xx and malformed JSON', () => {
  const repoRoot = resolve(__dirname, '..', '..');
  let stack: FaultStack;
  const streams = [
    ['apod', 'apod'],
    ['donki', 'FLR'],
    ['donki', 'CME'],
    ['donki', 'GST'],
    ['fireball', 'fireball'],
  ] as const;

  beforeAll(async () => {
    stack = await startFaultStack({
      repoRoot,
      timers: true,
      nasaFaults: [
        { path: '^/planetary/apod', kind: 'status', status: 429, retryAfter: '1', count: 3 },
        { path: '^/DONKI/FLR', kind: 'delay', delayMs: 2500, count: 2 },
        { path: '^/DONKI/CME', kind: 'malformed', count: 1 },
        { path: '^/jpl/fireball', kind: 'status', status: 503, count: 8 },
      ],
      settings: {
        INGEST_SOURCES: 'apod,donki,fireball',
        INGEST_SCHEDULE: '*/2 * * * * *',
        INGEST_MAX_WINDOWS_PER_RUN: '60',
        HTTP_TIMEOUT_MS: '1500',
        HTTP_MAX_RETRIES: '3',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('retries, quarantines with a reason, holds the watermark, then lands everything once', async () => {
    stack.watcher.start();
    const marks = new TableWatermarkStore(stack.storage.table(Tables.watermarks));
    const quarantine = stack.storage.blobs.getContainerClient(Containers.quarantine);
    // The malformed CME answer is quarantined with its reason, byte for byte ...
    const q = await waitFor(
      'the quarantined CME payload',
      async () => {
        for await (const b of quarantine.listBlobsFlat({ includeMetadata: true })) if (b.name.startsWith('donki/CME/')) return b;
        return undefined;
      },
      60_000,
      50,
    );
    // ... and at that moment CME's watermark has not moved past the window that failed.
    const failedStart = q.metadata?.['windowstart'] ?? '';
    const cmeMark = await marks.get('donki', 'CME');
    expect(cmeMark === undefined || cmeMark.nextStart <= failedStart).toBe(true);
    expect(q.metadata?.['reason']).toMatch(/not valid JSON/);
    expect((await quarantine.getBlobClient(q.name).downloadToBuffer()).toString()).toBe('{"this is": not json');

    // Every stream catches up to today (later cycles heal what failed).
    const today = new Date().toISOString().slice(0, 10);
    await waitFor(
      'every watermark at today',
      async () => {
        for (const [source, stream] of streams) if ((await marks.get(source, stream))?.nextStart !== today) return false;
        return true;
      },
      90_000,
      250,
    );
    // The quarantined window landed after all, and every fault was really served.
    const landed = await landedFiles(stack);
    expect(landed.some((f) => f.startsWith(`${Containers.raw}/donki/CME/`) && f.includes(`/${failedStart}_`))).toBe(true);
    // The first window of each faulty stream was asked for again and again: fault answers, then the good one.
    const firstWindowCalls = (p: string): number =>
      stack.replay.requests.filter((r) => r.path === p && Object.values(r.query).some((v) => v.startsWith('2024-05-25'))).length;
    expect(firstWindowCalls('/planetary/apod')).toBeGreaterThanOrEqual(4);
    expect(firstWindowCalls('/DONKI/FLR')).toBeGreaterThanOrEqual(3);
    expect(firstWindowCalls('/DONKI/CME')).toBeGreaterThanOrEqual(2);
    expect(firstWindowCalls('/jpl/fireball.api')).toBeGreaterThanOrEqual(9);

    // Nothing lands twice across the healing cycles, and each landed file runs exactly once.
    expect(landed.filter((f) => f.includes('/apod/apod/'))).toHaveLength(1);
    const s = await settle(stack, { expectedFiles: landed.length, timeoutMs: 60_000, scope: ['apod', 'donki', 'fireball'] });
    const v = violations(s);
    if (v.length) console.log(summary(s));
    expect(v).toEqual([]);
    expect(s.settled).toBe(true);
    expect(s.landed).toEqual(landed);
  });
});
