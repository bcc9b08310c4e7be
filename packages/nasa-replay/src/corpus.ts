import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sodaRowsFromCsv } from './meteoriteCsv';

/**
 * Records the replay server answers from, per stream, each with the date(s) the real API filters on.
 * Built from the project's own fixtures (test/fixtures/nasa) and, when present, the team's real captures.
 */
export type Rec = Record<string, unknown>;

export interface Corpus {
  neows: { date: string; neo: Rec }[];
  donki: Record<'FLR' | 'CME' | 'GST', Rec[]>;
  apod: Rec[];
  eonet: Rec[];
  epic: Rec[];
  fireball: { fields: string[]; rows: (string | null)[][] };
  meteorites: Rec[];
  cmr: Rec[];
}

export function emptyCorpus(): Corpus {
  return {
    neows: [],
    donki: { FLR: [], CME: [], GST: [] },
    apod: [],
    eonet: [],
    epic: [],
    fireball: { fields: [], rows: [] },
    meteorites: [],
    cmr: [],
  };
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function addNeoFeed(c: Corpus, feed: unknown): void {
  const neo = (feed as { near_earth_objects?: Record<string, Rec[]> }).near_earth_objects ?? {};
  for (const [date, list] of Object.entries(neo)) for (const n of list) c.neows.push({ date, neo: n });
}

function addFireball(c: Corpus, payload: unknown): void {
  const p = payload as { fields?: string[]; data?: (string | null)[][] };
  if (!p.fields || !p.data) return;
  if (c.fireball.fields.length === 0) c.fireball.fields = p.fields;
  // Re-map by field name in case two files order fields differently.
  for (const row of p.data) c.fireball.rows.push(c.fireball.fields.map((f) => row[p.fields!.indexOf(f)] ?? null));
}

/** The project's fixtures: one file per stream, in the upstream response shape. */
export function loadFixtures(c: Corpus, dir: string): void {
  const f = (name: string): unknown => readJson(join(dir, name));
  addNeoFeed(c, f('neows-feed.json'));
  c.donki.FLR.push(...(f('donki-FLR.json') as Rec[]));
  c.donki.CME.push(...(f('donki-CME.json') as Rec[]));
  c.donki.GST.push(...(f('donki-GST.json') as Rec[]));
  c.apod.push(...(f('apod.json') as Rec[]));
  c.eonet.push(...(f('eonet-events.json') as { events: Rec[] }).events);
  c.epic.push(...(f('epic-natural.json') as Rec[]));
  addFireball(c, f('fireball.json'));
  c.meteorites.push(...(f('meteorites.json') as Rec[]));
  c.cmr.push(...(f('cmr-granules.umm_json.json') as { items: Rec[] }).items);
}

/**
 * Captures kept for evaluation (MANIFEST: `heldout_*` and `*_part2*`): the replay never serves them, so nothing built or
 * tested locally can be tuned on them.
 */
export const isEvaluationCapture = (name: string): boolean => name.startsWith('heldout_') || name.includes('_part2');

/** A capture folder's files of one API, evaluation files excluded, in name order (so a later file wins a duplicate id). */
function captureFiles(dir: string, sub: string, re: RegExp): string[] {
  if (!existsSync(join(dir, sub))) return [];
  return readdirSync(join(dir, sub))
    .filter((x) => re.test(x) && !isEvaluationCapture(x))
    .sort()
    .map((x) => `${sub}/${x}`);
}

const isApodRecord = (x: unknown): x is Rec =>
  typeof x === 'object' && x !== null && /^\d{4}-\d{2}-\d{2}$/.test(String((x as Rec)['date'])) && typeof (x as Rec)['title'] === 'string';

/**
 * The team's real captures (../shared/nasa-samples) of the responses Orbiter's ingestion asks for, skipping the
 * evaluation files. Returns the files loaded (`sub/name`). Not loaded: error bodies, APOD's built-in fallback object
 * (not a capture), NeoWs `detailed=true`/lookup/browse/stats, DONKI types and notifications Orbiter does not ingest,
 * CMR's Atom (`granules.json`) variant and raw cassette, and the JPL close-approach (cad) data.
 */
export function loadSamples(c: Corpus, dir: string): string[] {
  const loaded: string[] = [];
  const each = (sub: string, re: RegExp, add: (body: unknown, file: string) => void): void => {
    for (const f of captureFiles(dir, sub, re)) {
      add(f.endsWith('.csv') ? readFileSync(join(dir, f), 'utf8') : readJson(join(dir, f)), f);
      loaded.push(f);
    }
  };
  // Current and 2016 feeds (the 2016 shape lacks `id`; silver reads neo_reference_id then).
  each('neows', /^(legacy\d{4}_)?feed_(?!detailed).*\.json$/, (j) => addNeoFeed(c, j));
  for (const t of ['FLR', 'CME', 'GST'] as const) each('donki', new RegExp(`^(empty_)?${t}_.*\\.json$`), (j) => c.donki[t].push(...(j as Rec[])));
  each('apod', /^apod_(?!error_|fallback_).*\.json$/, (j, f) => {
    const list = Array.isArray(j) ? (j as unknown[]) : [j];
    if (!list.every(isApodRecord)) throw new Error(`${f}: not an APOD record or list of records`);
    c.apod.push(...list);
  });
  each('eonet', /^events_.*\.json$/, (j) => c.eonet.push(...(j as { events: Rec[] }).events));
  each('epic', /^natural_.*\.json$/, (j) => c.epic.push(...(j as Rec[])));
  each('fireball', /\.json$/, (j) => addFireball(c, j));
  // The CSV export first: the SODA JSON capture of the same rows then wins, being the endpoint's own shape.
  each('meteorites', /\.csv$/, (csv) => c.meteorites.push(...sodaRowsFromCsv(csv as string)));
  each('meteorites', /\.json$/, (j) => c.meteorites.push(...(j as Rec[])));
  each('cmr', /^granules_umm_json_.*(?<!\.headers)\.json$/, (j) => c.cmr.push(...((j as { items?: Rec[] }).items ?? [])));
  return loaded;
}

/** Removes exact duplicates that fixtures and captures may share (same id). */
export function dedupe(c: Corpus): Corpus {
  const by = <T>(list: T[], key: (x: T) => string): T[] => [...new Map(list.map((x) => [key(x), x])).values()];
  c.neows = by(c.neows, (x) => `${x.date}|${String(x.neo['neo_reference_id'])}`);
  c.donki.FLR = by(c.donki.FLR, (x) => String(x['flrID']));
  c.donki.CME = by(c.donki.CME, (x) => String(x['activityID']));
  c.donki.GST = by(c.donki.GST, (x) => String(x['gstID']));
  c.apod = by(c.apod, (x) => String(x['date']));
  c.eonet = by(c.eonet, (x) => String(x['id']));
  c.epic = by(c.epic, (x) => String(x['identifier']));
  c.meteorites = by(c.meteorites, (x) => String(x['id']));
  c.cmr = by(c.cmr, (x) => String((x['meta'] as Rec)['concept-id']));
  c.fireball.rows = by(c.fireball.rows, (r) => r.join('|'));
  return c;
}
