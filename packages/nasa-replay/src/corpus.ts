import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** The team's real captures (../shared/nasa-samples), skipping the evaluation files. */
export function loadSamples(c: Corpus, dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  const files = (sub: string, re: RegExp): string[] =>
    existsSync(join(dir, sub))
      ? readdirSync(join(dir, sub))
          .filter((x) => re.test(x) && !isEvaluationCapture(x))
          .map((x) => join(dir, sub, x))
      : [];
  for (const p of files('neows', /^feed_.*\.json$/)) {
    addNeoFeed(c, readJson(p));
    n++;
  }
  for (const t of ['FLR', 'CME', 'GST'] as const)
    for (const p of files('donki', new RegExp(`^${t}_.*\\.json$`))) {
      c.donki[t].push(...(readJson(p) as Rec[]));
      n++;
    }
  for (const p of files('apod', /^apod_(range|date|video|2025).*\.json$/)) {
    const j = readJson(p);
    c.apod.push(...(Array.isArray(j) ? (j as Rec[]) : [j as Rec]));
    n++;
  }
  for (const p of files('eonet', /_first25\.json$/)) {
    c.eonet.push(...(readJson(p) as { events: Rec[] }).events);
    n++;
  }
  for (const p of files('epic', /^natural_.*\.json$/)) {
    c.epic.push(...(readJson(p) as Rec[]));
    n++;
  }
  for (const p of files('fireball', /\.json$/)) {
    addFireball(c, readJson(p));
    n++;
  }
  for (const p of files('meteorites', /\.json$/)) {
    c.meteorites.push(...(readJson(p) as Rec[]));
    n++;
  }
  for (const p of files('cmr', /^granules_umm_json_.*(LAADS|page_size).*\.json$/)) {
    if (p.endsWith('.headers.json')) continue;
    c.cmr.push(...((readJson(p) as { items?: Rec[] }).items ?? []));
    n++;
  }
  return n;
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
