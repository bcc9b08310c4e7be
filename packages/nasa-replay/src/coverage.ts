import type { Corpus } from './corpus';
import { dayOf, donkiDay, eonetDays, granuleBegin, inCollection } from './records';

/** Dated streams of the corpus, by the source names Orbiter's INGEST_START_DATES uses. */
export type CoveredSource = 'neows' | 'donki' | 'eonet' | 'apod' | 'epic' | 'fireball' | 'cmr';

/**
 * The first day on which the corpus holds a record, per dated source: a client that starts its windows there and walks
 * to today is answered every record the replay holds. CMR counts only the collection the client asks for.
 */
export function corpusCoverage(c: Corpus, opts: { cmrShortName: string }): Partial<Record<CoveredSource, string>> {
  const first = (days: string[]): string | undefined => days.filter(Boolean).sort()[0];
  const di = c.fireball.fields.indexOf('date');
  const out: Partial<Record<CoveredSource, string | undefined>> = {
    neows: first(c.neows.map((n) => n.date)),
    donki: first((['FLR', 'CME', 'GST'] as const).flatMap((t) => c.donki[t].map((e) => donkiDay(t, e)))),
    eonet: first(c.eonet.map((e) => eonetDays(e)[0] ?? '')),
    apod: first(c.apod.map((a) => String(a['date']))),
    epic: first(c.epic.map((e) => dayOf(e['date']))),
    fireball: di < 0 ? undefined : first(c.fireball.rows.map((r) => dayOf(r[di]))),
    cmr: first(c.cmr.filter((g) => inCollection(g, opts.cmrShortName)).map((g) => dayOf(granuleBegin(g)))),
  };
  return Object.fromEntries(Object.entries(out).filter(([, d]) => d !== undefined));
}
