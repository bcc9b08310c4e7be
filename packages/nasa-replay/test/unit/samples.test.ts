import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dedupe, emptyCorpus, isEvaluationCapture, loadSamples, type Corpus } from '@orbiter/nasa-replay/corpus';
import { corpusCoverage } from '@orbiter/nasa-replay/coverage';
import { sodaRowsFromCsv } from '@orbiter/nasa-replay/meteoriteCsv';
import { startReplayServer, type ReplayServer } from '@orbiter/nasa-replay/server';

// The team's real captures, when present beside the checkout (ORBITER_NASA_SAMPLES elsewhere).
const samplesDir = resolve(process.env['ORBITER_NASA_SAMPLES'] ?? resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'nasa-samples'));
const real = existsSync(samplesDir) ? describe : describe.skip;

real('the real captures (../shared/nasa-samples)', () => {
  let corpus: Corpus;
  let loaded: string[];
  let server: ReplayServer;
  const text = (rel: string): string => readFileSync(join(samplesDir, rel), 'utf8');
  const evaluationFiles = (sub: string): string[] => readdirSync(join(samplesDir, sub)).filter(isEvaluationCapture);

  beforeAll(async () => {
    corpus = emptyCorpus();
    loaded = loadSamples(corpus, samplesDir);
    server = await startReplayServer(dedupe(corpus));
  });
  afterAll(() => server?.close());
  // A fresh connection per request: parsing the big captures blocks this process (server and client) for seconds,
  // long enough for the server to drop an idle keep-alive socket just as the client reuses it.
  const get = async (path: string): Promise<unknown> => (await fetch(`${server.url}${path}`, { headers: { connection: 'close' } })).json();

  it('loads no evaluation file', () => {
    expect(loaded.length).toBeGreaterThan(20);
    expect(loaded.filter((f) => isEvaluationCapture(f.split('/')[1]!))).toEqual([]);
  });

  // The evaluation files are read here only for their record ids, to prove that no answer ever carries one.
  it('never serves a DONKI event of a heldout_ capture, even for its own month', async () => {
    for (const f of evaluationFiles('donki').filter((x) => /^heldout_(FLR|CME)_/.test(x))) {
      const type = /_(FLR|CME)_/.exec(f)![1]!;
      const key = type === 'FLR' ? 'flrID' : 'activityID';
      const heldout = new Set((JSON.parse(text(`donki/${f}`)) as Record<string, string>[]).map((e) => e[key]));
      expect(heldout.size).toBeGreaterThan(0);
      const served = (await get(`/DONKI/${type}?startDate=2017-09-01&endDate=2017-09-30&api_key=k`)) as Record<string, string>[];
      expect(served.filter((e) => heldout.has(e[key]))).toEqual([]);
    }
  });

  it('never serves an EONET event of the _part2 capture; serves every event of part 1', async () => {
    const [part2] = evaluationFiles('eonet');
    const heldout = new Set((JSON.parse(text(`eonet/${part2}`)) as { events: { id: string }[] }).events.map((e) => e.id));
    const part1 = (JSON.parse(text('eonet/events_open_2025-11-10_part1.json')) as { events: { id: string }[] }).events.map((e) => e.id);
    const served = ((await get('/eonet/api/v3/events?start=1990-01-01&end=2030-12-31&status=all')) as { events: { id: string }[] }).events;
    const ids = new Set(served.map((e) => e.id));
    expect([...heldout].filter((id) => ids.has(id) && !part1.includes(id))).toEqual([]);
    expect(part1.every((id) => ids.has(id))).toBe(true);
  });

  it('pages every meteorite of the CSV part 1 and the SODA capture, none only in part 2', async () => {
    const part2 = new Set(sodaRowsFromCsv(text('meteorites/Meteorite_Landings_part2.csv')).map((r) => r['id']));
    const part1 = sodaRowsFromCsv(text('meteorites/Meteorite_Landings_part1.csv')).map((r) => r['id']);
    const served: string[] = [];
    for (let offset = 0; ; offset += 5000) {
      const page = (await get(`/socrata/resource/gh4g-9sfh.json?$limit=5000&$offset=${offset}&$order=:id`)) as { id: string }[];
      served.push(...page.map((r) => r.id));
      if (page.length < 5000) break;
    }
    expect(new Set(served).size).toBe(served.length);
    expect(served.filter((id) => part2.has(id) && !part1.includes(id))).toEqual([]);
    expect(new Set(served)).toEqual(new Set(part1));
  });

  it('converts the CSV export to the rows the SODA capture holds for the same ids', () => {
    const csv = new Map(sodaRowsFromCsv(text('meteorites/Meteorite_Landings_part1.csv')).map((r) => [r['id'], r]));
    const soda = JSON.parse(text('meteorites/meteorite_landings_soda_default1000.json')) as Record<string, unknown>[];
    const withoutRegions = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith(':@computed_region')));
    const differing = soda.filter((r) => JSON.stringify(withoutRegions(r)) !== JSON.stringify(csv.get(String(r['id']))));
    expect(differing).toEqual([]);
  });

  it('covers fireballs since 1988, APOD since 2013, NeoWs since 2016 and the MODIS granule of 2019', () => {
    expect(corpusCoverage(dedupe(corpus), { cmrShortName: 'MYD021KM' })).toEqual({
      neows: '2016-11-19',
      donki: '2024-05-01',
      eonet: '2024-09-02',
      apod: '2013-10-13',
      epic: '2024-05-31',
      fireball: '1988-04-15',
      cmr: '2019-02-20',
    });
  });
});
