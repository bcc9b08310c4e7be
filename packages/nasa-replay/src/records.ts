import type { Rec } from './corpus';

/** The dates each API filters its records on, shared by the routes and by the corpus's coverage. */
export const dayOf = (s: unknown): string => String(s ?? '').slice(0, 10);

/** DONKI filters flares on beginTime and CMEs and storms on startTime. */
export const donkiDay = (type: 'FLR' | 'CME' | 'GST', e: Rec): string => dayOf(e[type === 'FLR' ? 'beginTime' : 'startTime']);

/** An EONET event's geometry dates, sorted. */
export const eonetDays = (e: Rec): string[] => ((e['geometry'] as Rec[] | undefined) ?? []).map((g) => dayOf(g['date'])).sort();

const range = (i: Rec): Rec => (((i['umm'] as Rec)['TemporalExtent'] as Rec | undefined)?.['RangeDateTime'] as Rec | undefined) ?? {};
export const granuleBegin = (i: Rec): string => String(range(i)['BeginningDateTime'] ?? '');
export const granuleEnd = (i: Rec): string => String(range(i)['EndingDateTime'] ?? granuleBegin(i));
export const granuleId = (i: Rec): string => String((i['meta'] as Rec)['concept-id']);
/** CMR's short_name matches the collection's ShortName. */
export const inCollection = (i: Rec, shortName: string): boolean =>
  ((i['umm'] as Rec)['CollectionReference'] as Rec | undefined)?.['ShortName'] === shortName;
