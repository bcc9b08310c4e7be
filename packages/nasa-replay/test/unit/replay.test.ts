import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dedupe, emptyCorpus, loadSamples } from '@orbiter/nasa-replay/corpus';
import { corpusCoverage } from '@orbiter/nasa-replay/coverage';
import { startReplayServer, type ReplayServer } from '@orbiter/nasa-replay/server';

/**
 * Which capture answers which request: a samples folder written here (one capture per API, plus an evaluation file
 * beside each, dated inside the very windows the kept ones answer) behind a real replay server, asked over HTTP the
 * way Orbiter's clients ask.
 */
describe('replay server over a samples folder', () => {
  let dir: string;
  let server: ReplayServer;
  let loaded: string[];
  const put = (rel: string, body: unknown): void => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), typeof body === 'string' ? body : JSON.stringify(body));
  };
  const neo = (id: string, date: string) => ({
    id,
    neo_reference_id: id,
    name: `(${id})`,
    close_approach_data: [{ close_approach_date: date }],
  });
  const event = (id: string, ...dates: string[]) => ({ id, closed: null, geometry: dates.map((date) => ({ date, type: 'Point' })) });
  const granule = (id: string, shortName: string, begin: string) => ({
    meta: { 'concept-id': id, 'provider-id': 'P' },
    umm: { CollectionReference: { ShortName: shortName }, TemporalExtent: { RangeDateTime: { BeginningDateTime: begin } } },
  });
  const csv = (rows: string[]) =>
    `\ufeffname,id,nametype,recclass,mass (g),fall,year,reclat,reclong,GeoLocation,States,Counties\n${rows.join('\n')}\n`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orbiter-replay-'));
    put('neows/feed_2024-05-25_2024-06-01.json', {
      element_count: 2,
      near_earth_objects: { '2024-05-25': [neo('kept-1', '2024-05-25')], '2024-06-01': [neo('kept-2', '2024-06-01')] },
    });
    put('neows/legacy2016_feed_2016-11-19_2016-11-20.json', {
      element_count: 1,
      near_earth_objects: { '2016-11-19': [neo('legacy', '2016-11-19')] },
    });
    put('neows/legacy2016_feed_detailed_2016-11-19_2016-11-20.json', {
      element_count: 1,
      near_earth_objects: { '2016-11-19': [neo('detailed', '2016-11-19')] },
    });
    put('neows/heldout_feed_2024-05-25.json', { element_count: 1, near_earth_objects: { '2024-05-26': [neo('evaluation', '2024-05-26')] } });
    put('donki/FLR_2024-05.json', [{ flrID: 'flr-kept', beginTime: '2024-05-14T16:46Z' }]);
    put('donki/heldout_FLR_2024-05.json', [{ flrID: 'flr-evaluation', beginTime: '2024-05-15T10:00Z' }]);
    put('donki/CME_2024-05_part2.json', [{ activityID: 'cme-evaluation', startTime: '2024-05-10T00:00Z' }]);
    put('donki/GST_2024-05.json', [{ gstID: 'gst-kept', startTime: '2024-05-10T15:00Z' }]);
    put('donki/notifications_2024-05.json', [{ messageID: 'not-ingested' }]);
    put('eonet/events_open_part1.json', {
      events: [event('E1', '2024-09-02T19:00:00Z'), event('E2', '2024-10-05T00:00:00Z', '2024-11-20T00:00:00Z')],
    });
    put('eonet/events_open_part2.json', { events: [event('E-evaluation', '2024-10-06T00:00:00Z')] });
    put('apod/apod_range_2021-11-07_2021-11-08.json', [
      { date: '2021-11-07', title: 'a' },
      { date: '2021-11-08', title: 'b' },
    ]);
    put('apod/apod_edge_no_urls_2014-02-10.json', { date: '2014-02-10', title: 'video without urls' });
    put('apod/apod_error_404_no_data_1995-06-17.json', { code: 404, msg: 'No data available for date: 1995-06-17' });
    put('apod/apod_fallback_default_object.json', { date: '2000-01-01', title: 'fallback, not a capture' });
    put('apod/heldout_apod_2021-11-09.json', { date: '2021-11-09', title: 'evaluation' });
    put('epic/natural_2024-05-31.json', [{ identifier: 'epic-kept', date: '2024-05-31 00:22:24' }]);
    put('epic/heldout_natural_2024-05-31.json', [{ identifier: 'epic-evaluation', date: '2024-05-31 05:00:00' }]);
    put('fireball/fireball_all.json', {
      fields: ['date', 'energy'],
      data: [
        ['1988-04-15 03:03:10', '1'],
        ['2024-05-10 16:57:36', '2'],
      ],
    });
    put('fireball/fireball_all_part2.json', { fields: ['date', 'energy'], data: [['2024-05-11 00:00:00', '9']] });
    put('meteorites/landings_soda.json', [
      { name: 'Aachen', id: '1', nametype: 'Valid', recclass: 'L5', fall: 'Fell', year: '1880-01-01T00:00:00.000' },
    ]);
    put(
      'meteorites/Landings_part1.csv',
      csv([
        'Aachen,1,Valid,L5,21,Fell,1880,50.775000,6.083330,"(50.775, 6.08333)",,',
        'Aarhus,2,Valid,H6,720,Fell,1951,,,,,',
        'Abee,6,Valid,EH4,107000,Fell,1952,54.216670,-113.000000,"(54.21667, -113.0)",,',
      ]),
    );
    put('meteorites/Landings_part2.csv', csv(['Zagami,99999,Valid,Martian,18000,Fell,1962,11.733330,7.083330,"(11.73333, 7.08333)",,']));
    put('cmr/granules_umm_json_MODIS.json', {
      hits: 2,
      items: [granule('G2', 'MYD021KM', '2019-02-20T04:30:00.000Z'), granule('G1', 'MYD021KM', '2019-02-20T04:30:00.000Z')],
    });
    put('cmr/granules_umm_json_GRACE.json', { hits: 1, items: [granule('G9', 'TELLUS_GRAC', '2002-04-04T00:00:00.000Z')] });
    put('cmr/granules_umm_json_GRACE.headers.json', { status: 200 });
    put('cmr/heldout_granules_umm_json_MODIS.json', { hits: 1, items: [granule('G-evaluation', 'MYD021KM', '2019-02-20T05:00:00.000Z')] });
    const c = emptyCorpus();
    loaded = loadSamples(c, dir);
    server = await startReplayServer(dedupe(c), { now: () => new Date('2021-11-08T12:00:00Z') });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> => {
    const res = await fetch(`${server.url}${path}`, { headers });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : text, headers: res.headers };
  };
  const ids = (list: unknown, key: string): string[] => (list as Record<string, string>[]).map((x) => x[key]!);

  it('loads the captures of what Orbiter ingests and never an evaluation file', () => {
    expect(loaded).toEqual([
      'neows/feed_2024-05-25_2024-06-01.json',
      'neows/legacy2016_feed_2016-11-19_2016-11-20.json',
      'donki/FLR_2024-05.json',
      'donki/GST_2024-05.json',
      'apod/apod_edge_no_urls_2014-02-10.json',
      'apod/apod_range_2021-11-07_2021-11-08.json',
      'eonet/events_open_part1.json',
      'epic/natural_2024-05-31.json',
      'fireball/fireball_all.json',
      'meteorites/Landings_part1.csv',
      'meteorites/landings_soda.json',
      'cmr/granules_umm_json_GRACE.json',
      'cmr/granules_umm_json_MODIS.json',
    ]);
    expect(loaded.some((f) => /heldout_|_part2/.test(f))).toBe(false);
  });

  it('NeoWs: a feed window answers the NEOs of its days only, current and 2016 captures alike', async () => {
    const week = await get('/neo/rest/v1/feed?start_date=2024-05-25&end_date=2024-05-31&api_key=k');
    const near = (week.body as { near_earth_objects: Record<string, { id: string }[]> }).near_earth_objects;
    expect(Object.fromEntries(Object.entries(near).map(([d, l]) => [d, l.map((n) => n.id)]))).toEqual({ '2024-05-25': ['kept-1'] });
    const next = await get('/neo/rest/v1/feed?start_date=2024-06-01&api_key=k'); // end_date defaults to start + 7 days
    expect((next.body as { element_count: number }).element_count).toBe(1);
    const old = await get('/neo/rest/v1/feed?start_date=2016-11-19&end_date=2016-11-25&api_key=k');
    expect((old.body as { near_earth_objects: Record<string, { id: string }[]> }).near_earth_objects['2016-11-19']!.map((n) => n.id)).toEqual([
      'legacy',
    ]);
    const none = await get('/neo/rest/v1/feed?start_date=2020-01-01&end_date=2020-01-07&api_key=k');
    expect(none.body).toMatchObject({ element_count: 0, near_earth_objects: {} });
  });

  it('DONKI: the month answers its own events; a window without a capture answers empty', async () => {
    expect(ids((await get('/DONKI/FLR?startDate=2024-05-01&endDate=2024-05-30&api_key=k')).body, 'flrID')).toEqual(['flr-kept']);
    expect((await get('/DONKI/CME?startDate=2024-05-01&endDate=2024-05-30&api_key=k')).body).toEqual([]);
    expect((await get('/DONKI/FLR?startDate=2024-06-01&endDate=2024-06-30&api_key=k')).body).toEqual([]);
    expect(ids((await get('/DONKI/GST?startDate=2024-05-10&endDate=2024-05-10&api_key=k')).body, 'gstID')).toEqual(['gst-kept']);
    expect((await get('/DONKI/GST?startDate=2024-05-11&endDate=2024-06-09&api_key=k')).body).toBe('');
  });

  it('EONET: events whose geometry overlaps the window; evaluation events never', async () => {
    const events = async (start: string, end: string): Promise<string[]> =>
      ids(((await get(`/eonet/api/v3/events?start=${start}&end=${end}&status=all`)).body as { events: unknown }).events, 'id');
    expect(await events('2024-09-01', '2024-09-30')).toEqual(['E1']);
    expect(await events('2024-10-01', '2024-10-30')).toEqual(['E2']);
    expect(await events('2000-01-01', '2030-01-01')).toEqual(['E1', 'E2']);
    expect(await events('2025-01-01', '2025-01-30')).toEqual([]);
  });

  it('APOD: a range answers the dated captures in it, end_date defaulting to today; error bodies and the fallback are not records', async () => {
    expect(ids((await get('/planetary/apod?start_date=2021-11-01&end_date=2021-11-30&api_key=k')).body, 'date')).toEqual([
      '2021-11-07',
      '2021-11-08',
    ]);
    expect(ids((await get('/planetary/apod?start_date=2014-02-01&api_key=k')).body, 'date')).toEqual(['2014-02-10', '2021-11-07', '2021-11-08']);
    expect((await get('/planetary/apod?start_date=1999-12-01&end_date=2000-01-30&api_key=k')).body).toEqual([]);
    expect((await get('/planetary/apod?date=2021-11-09&api_key=k')).status).toBe(404);
    expect((await get('/planetary/apod?date=2021-11-07&start_date=2021-11-07&api_key=k')).status).toBe(400);
  });

  it('EPIC and fireballs: the day and the date range asked, nothing from evaluation files', async () => {
    expect(ids((await get('/epic/api/natural/date/2024-05-31')).body, 'identifier')).toEqual(['epic-kept']);
    expect((await get('/epic/api/natural/date/2024-06-01')).body).toEqual([]);
    const may = (await get('/jpl/fireball.api?date-min=2024-05-01&date-max=2024-05-30T23:59:59')).body as { count: string; data: string[][] };
    expect(may).toMatchObject({ count: '1', data: [['2024-05-10 16:57:36', '2']] });
    expect((await get('/jpl/fireball.api?date-min=2024-06-01&date-max=2024-06-30T23:59:59')).body).toEqual({
      signature: { source: 'NASA/JPL Fireball Data API', version: '1.2' },
      count: '0',
    });
  });

  it('meteorites: SODA pages over the CSV export and the JSON capture, by id, the JSON capture winning its ids', async () => {
    const p1 = (await get('/socrata/resource/gh4g-9sfh.json?$limit=2&$offset=0&$order=:id')).body as Record<string, unknown>[];
    const p2 = (await get('/socrata/resource/gh4g-9sfh.json?$limit=2&$offset=2&$order=:id')).body as Record<string, unknown>[];
    const p3 = (await get('/socrata/resource/gh4g-9sfh.json?$limit=2&$offset=4&$order=:id')).body;
    expect([...p1, ...p2].map((r) => r['id'])).toEqual(['1', '2', '6']);
    expect(p3).toEqual([]);
    expect(p1[0]).toEqual({ name: 'Aachen', id: '1', nametype: 'Valid', recclass: 'L5', fall: 'Fell', year: '1880-01-01T00:00:00.000' });
    expect(p1[1]).toEqual({ name: 'Aarhus', id: '2', nametype: 'Valid', recclass: 'H6', mass: '720', fall: 'Fell', year: '1951-01-01T00:00:00.000' });
    expect(p2[0]).toMatchObject({ reclat: '54.216670', reclong: '-113.000000', geolocation: { latitude: '54.21667', longitude: '-113.0' } });
  });

  it('CMR: the collection asked, its temporal range, search-after paging; other collections only when asked', async () => {
    const q = '/cmr/search/granules.umm_json?short_name=MYD021KM&temporal=2019-02-20T00:00:00Z,2019-02-20T23:59:59Z&page_size=1';
    const first = await get(q);
    expect(
      ids(
        (first.body as { items: { meta: unknown }[] }).items.map((i) => i.meta),
        'concept-id',
      ),
    ).toEqual(['G1']);
    expect(first.headers.get('cmr-hits')).toBe('2');
    const second = await get(q, { 'CMR-Search-After': first.headers.get('cmr-search-after')! });
    expect(
      ids(
        (second.body as { items: { meta: unknown }[] }).items.map((i) => i.meta),
        'concept-id',
      ),
    ).toEqual(['G2']);
    const third = await get(q, { 'CMR-Search-After': second.headers.get('cmr-search-after')! });
    expect((third.body as { items: unknown[] }).items).toEqual([]);
    expect((await get('/cmr/search/granules.umm_json?short_name=MYD021KM&temporal=2019-02-21T00:00:00Z,2019-02-21T23:59:59Z')).body).toMatchObject({
      hits: 0,
      items: [],
    });
    expect((await get('/cmr/search/granules.umm_json?short_name=TELLUS_GRAC&temporal=2002-04-01T00:00:00Z,2002-04-30T23:59:59Z')).body).toMatchObject(
      { hits: 1 },
    );
  });

  it('coverage: the first day with a record per dated source, CMR for the collection asked', () => {
    const c = emptyCorpus();
    loadSamples(c, dir);
    expect(corpusCoverage(dedupe(c), { cmrShortName: 'MYD021KM' })).toEqual({
      neows: '2016-11-19',
      donki: '2024-05-10',
      eonet: '2024-09-02',
      apod: '2014-02-10',
      epic: '2024-05-31',
      fireball: '1988-04-15',
      cmr: '2019-02-20',
    });
    expect(corpusCoverage(dedupe(c), { cmrShortName: 'TELLUS_GRAC' }).cmr).toBe('2002-04-04');
  });
  const raw = (path: string, opts: { host?: string; method?: string; body?: string }) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(server.url);
      const req = request({ host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? u.host } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(opts.body);
    });

  it('answers only its own Host (DNS rebinding), and bad fault bodies get a 4xx naming what is wrong', async () => {
    const fireballs = '/jpl/fireball.api?date-min=2024-01-01';
    expect((await raw(fireballs, { host: 'attacker.example' })).status).toBe(421);
    expect(
      (await raw('/__replay/faults', { host: `attacker.example:${new URL(server.url).port}`, method: 'POST', body: '{"path":".*","kind":"status"}' }))
        .status,
    ).toBe(421);
    expect((await raw(fireballs, {})).status).toBe(200);
    const notJson = await raw('/__replay/faults', { method: 'POST', body: '{"path":' });
    expect(notJson).toMatchObject({ status: 400, body: expect.stringContaining('not JSON') });
    expect((await raw('/__replay/faults', { method: 'POST', body: JSON.stringify({ path: 'x'.repeat(20_000), kind: 'status' }) })).status).toBe(413);
    expect((await raw('/__replay/faults', { method: 'POST', body: '{"kind":"nope"}' })).status).toBe(400);
    // None of the refused requests left a fault behind.
    expect((await raw(fireballs, {})).status).toBe(200);
  });
});
