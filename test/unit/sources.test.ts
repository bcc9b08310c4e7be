import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isOrbiterError, UpstreamShapeError } from '../../shared/errors';
import { endpointsFrom } from '../../shared/ingest/ingestCycle';
import { silentLogger } from '../../shared/logger';
import { NasaHttp } from '../../shared/nasa/http';
import { parsePayload } from '../../shared/nasa/parse';
import * as schemas from '../../shared/nasa/schemas';
import type { FetchedPage, NasaSource, SourceContext } from '../../shared/nasa/source';
import { allStreams } from '../../shared/nasa/sources';
import { apod } from '../../shared/nasa/sources/apod';
import { cmrGranules } from '../../shared/nasa/sources/cmr';
import { donkiFlares, donkiStorms } from '../../shared/nasa/sources/donki';
import { epicNatural } from '../../shared/nasa/sources/epic';
import { fireballs } from '../../shared/nasa/sources/fireball';
import { meteoriteLandings } from '../../shared/nasa/sources/meteorites';
import { neowsFeed } from '../../shared/nasa/sources/neows';
import { startReplayServer, type ReplayServer } from '@orbiter/nasa-replay/server';
import { isEvaluationCapture } from '@orbiter/nasa-replay/corpus';
import { testConfig } from '../support/config';
import { fixtureCorpus, haveSamples, samplesCorpus, samplesDir } from '../support/replay';

const KEY = 'test-key-1234567890';
let replay: ReplayServer;

function ctx(overrides: Record<string, string> = {}, maxRetries = 3): SourceContext {
  const config = testConfig({ ...replay.settings, NASA_API_KEY: KEY, ...overrides });
  const http = new NasaHttp({
    apiKey: KEY,
    timeoutMs: 1000,
    backoff: { maxRetries, baseDelayMs: 1, maxDelayMs: 5 },
    logger: silentLogger,
  });
  return { http, endpoints: endpointsFrom(config), apiKey: KEY };
}

async function pages(src: NasaSource, start: string, end: string, c = ctx()): Promise<FetchedPage[]> {
  const out: FetchedPage[] = [];
  for await (const p of src.fetchWindow({ start, end }, c)) out.push(p);
  return out;
}

beforeAll(async () => {
  replay = await startReplayServer(fixtureCorpus());
});
afterAll(() => replay.close());

describe('NASA sources against the replay server', () => {
  it('NeoWs: one 7-day window, records counted, key redacted from the landed body', async () => {
    const [p, ...rest] = await pages(neowsFeed, '2024-05-25', '2024-05-31');
    expect(rest).toHaveLength(0);
    expect(p!.recordCount).toBeGreaterThan(5);
    const text = p!.body.toString();
    expect(text).not.toContain(KEY);
    expect(text).toContain('api_key=REDACTED');
    const last = replay.requests[replay.requests.length - 1]!;
    expect(last.query).toMatchObject({ start_date: '2024-05-25', end_date: '2024-05-31', api_key: KEY });
  });

  it('NeoWs: an over-long window is an upstream 400, not retried', async () => {
    const before = replay.requests.length;
    await expect(pages(neowsFeed, '2024-05-01', '2024-05-31')).rejects.toMatchObject({ code: 'UpstreamHttpError', retryable: false });
    expect(replay.requests.length - before).toBe(1);
  });

  it('DONKI: filters by window and treats an empty 200 body as no events', async () => {
    const [flr] = await pages(donkiFlares, '2024-05-25', '2024-05-31');
    expect(flr!.recordCount).toBe(3);
    const [gst] = await pages(donkiStorms, '2023-01-01', '2023-01-30');
    expect(gst!.recordCount).toBe(0);
    expect(gst!.body.toString()).toBe('[]');
  });

  it('EPIC: one day per call, no key sent to epic.gsfc.nasa.gov', async () => {
    const [p] = await pages(epicNatural, '2024-05-31', '2024-05-31');
    expect(p!.recordCount).toBe(3);
    expect(replay.requests[replay.requests.length - 1]!.query['api_key']).toBeUndefined();
  });

  it('fireball: zero matches come without fields and count as zero records', async () => {
    const [none] = await pages(fireballs, '2020-01-01', '2020-01-30');
    expect(none!.recordCount).toBe(0);
    const [some] = await pages(fireballs, '2024-05-25', '2024-06-07');
    expect(some!.recordCount).toBe(4);
  });

  it('meteorites: pages with $limit/$offset/$order until a short page', async () => {
    const ps = await pages(meteoriteLandings, '2024-06-01', '2024-06-01', ctx({ METEORITES_PAGE_SIZE: '5' }));
    expect(ps.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(ps.map((p) => p.recordCount)).toEqual([5, 5, 4]);
    const offsets = replay.requests
      .filter((r) => r.path.includes('socrata'))
      .slice(-3)
      .map((r) => r.query['$offset']);
    expect(offsets).toEqual(['0', '5', '10']);
    expect(replay.requests[replay.requests.length - 1]!.query['$order']).toBe(':id');
  });

  it('CMR: pages with CMR-Search-After until the set is exhausted', async () => {
    const ps = await pages(cmrGranules, '2024-05-30', '2024-05-31', ctx({ CMR_PAGE_SIZE: '2' }));
    expect(ps.map((p) => p.recordCount)).toEqual([2, 2, 2]);
    const cmrReqs = replay.requests.filter((r) => r.path.includes('granules')).slice(-4);
    expect(cmrReqs[0]!.headers['cmr-search-after']).toBeUndefined();
    expect(cmrReqs[1]!.headers['cmr-search-after']).toMatch(/^\["2024-05-30T05:05:00.000Z"/);
    const ids = ps.flatMap((p) =>
      (JSON.parse(p.body.toString()) as { items: { meta: { 'concept-id': string } }[] }).items.map((i) => i.meta['concept-id']),
    );
    expect(new Set(ids).size).toBe(6);
  });
});

describe('HTTP error handling', () => {
  it('retries a 429 honouring Retry-After, then succeeds', async () => {
    replay.addFault({ path: '^/planetary/apod', kind: 'status', status: 429, retryAfter: '1', count: 1 });
    const started = Date.now();
    const [p] = await pages(apod, '2024-05-25', '2024-05-26');
    expect(p!.recordCount).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries 5xx with backoff and gives up after maxRetries', async () => {
    replay.addFault({ path: '^/planetary/apod', kind: 'status', status: 503, count: 3 });
    const before = replay.requests.length;
    await expect(pages(apod, '2024-05-25', '2024-05-26', ctx({}, 2))).rejects.toMatchObject({ code: 'UpstreamHttpError', retryable: true });
    expect(replay.requests.length - before).toBe(3); // first try + 2 retries, all spent on the fault
  });

  it('does not retry a rejected key, and never echoes it', async () => {
    const c = ctx();
    const http = new NasaHttp({ apiKey: '', timeoutMs: 1000, backoff: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 2 }, logger: silentLogger });
    const err = await pages(apod, '2024-05-25', '2024-05-26', { ...c, http }).catch((e: unknown) => e);
    expect(isOrbiterError(err, 'UpstreamAuthFailed')).toBe(true);
    expect((err as Error).message).toMatch(/403 API_KEY_MISSING/);
  });

  it('maps malformed JSON to a shape error carrying the raw bytes for quarantine', async () => {
    replay.addFault({ path: '^/DONKI/FLR', kind: 'malformed' });
    const err = await pages(donkiFlares, '2024-05-25', '2024-05-31').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamShapeError);
    expect((err as UpstreamShapeError).rawBody.toString()).toContain('not json');
  });

  it('maps a slow upstream to a retryable timeout', async () => {
    replay.addFault({ path: '^/epic/', kind: 'delay', delayMs: 1500, count: 1 });
    const http = new NasaHttp({ apiKey: KEY, timeoutMs: 200, backoff: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 }, logger: silentLogger });
    await expect(pages(epicNatural, '2024-05-31', '2024-05-31', { ...ctx(), http })).rejects.toMatchObject({
      code: 'UpstreamTimeout',
      retryable: true,
    });
  });

  it('a schema change names the field', () => {
    const err = (() => {
      try {
        parsePayload(Buffer.from('[{"flrID":"x","beginTime":5}]'), schemas.donkiFlrPayload, 'DONKI FLR');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/DONKI FLR: unexpected shape: 0\.beginTime/);
  });
});

describe('every stream is wired', () => {
  it('has ten streams across the eight sources', () => {
    expect(allStreams.map((s) => `${s.source}/${s.stream}`)).toEqual([
      'neows/feed',
      'donki/FLR',
      'donki/CME',
      'donki/GST',
      'eonet/events',
      'apod/apod',
      'epic/natural',
      'fireball/fireball',
      'meteorites/landings',
      'cmr/granules',
    ]);
  });
});

// The team's real captures, when present beside the checkout: our schemas must accept every real payload.
const real = haveSamples ? describe : describe.skip;
real('real NASA captures (../shared/nasa-samples)', () => {
  const json = (sub: string, re: RegExp): [string, unknown][] =>
    readdirSync(join(samplesDir, sub))
      .filter((f) => re.test(f) && !isEvaluationCapture(f))
      .map((f) => [f, JSON.parse(readFileSync(join(samplesDir, sub, f), 'utf8'))]);
  it.each([
    ['neows', /^feed_2\d{3}-.*\.json$/, schemas.neoFeedPayload],
    ['donki', /^FLR_.*\.json$/, schemas.donkiFlrPayload],
    ['donki', /^CME_.*\.json$/, schemas.donkiCmePayload],
    ['donki', /^GST_.*\.json$/, schemas.donkiGstPayload],
    ['eonet', /_first25\.json$/, schemas.eonetEventsPayload],
    ['apod', /^apod_range_.*\.json$/, schemas.apodPayload],
    ['epic', /^natural_.*\.json$/, schemas.epicPayload],
    ['fireball', /\.json$/, schemas.jplSsdPayload],
    ['meteorites', /\.json$/, schemas.meteoritesPayload],
    ['cmr', /^granules_umm_json_.*(LAADS|page_size_2000)\.json$/, schemas.cmrUmmPayload],
  ])('%s %s validates', (sub, re, schema) => {
    const files = json(sub, re);
    expect(files.length).toBeGreaterThan(0);
    for (const [f, body] of files) {
      const r = (schema as { safeParse(x: unknown): { success: boolean; error?: unknown } }).safeParse(body);
      if (!r.success) throw new Error(`${sub}/${f}: ${String(r.error)}`);
    }
  });

  it('the replay server serves the real captures by window', async () => {
    const server = await startReplayServer(samplesCorpus());
    try {
      const c = { ...ctx(), endpoints: endpointsFrom(testConfig(server.settings)) };
      const [feed] = await pages(neowsFeed, '2024-05-25', '2024-06-01', c);
      expect(feed!.recordCount).toBe(107); // feed_2024-05-25_2024-06-01.json: 107 NEOs
      const [flr] = await pages(donkiFlares, '2024-05-01', '2024-05-30', c);
      expect(flr!.recordCount).toBeGreaterThan(50);
      const ps = await pages(cmrGranules, '2000-01-01', '2030-01-01', {
        ...c,
        endpoints: { ...c.endpoints, cmrPageSize: 2000, cmrCollectionShortName: 'MYD021KM' },
      });
      expect(ps[0]!.recordCount).toBe(1);
    } finally {
      await server.close();
    }
  });
});
