import type { SourceId } from '../../config';
import type { NasaSource } from '../source';
import { apod } from './apod';
import { cmrGranules } from './cmr';
import { donkiCmes, donkiFlares, donkiStorms } from './donki';
import { eonetEvents } from './eonet';
import { epicNatural } from './epic';
import { fireballs } from './fireball';
import { meteoriteLandings } from './meteorites';
import { neowsFeed } from './neows';

/** Every stream Orbiter ingests, by source. */
export const allStreams: readonly NasaSource[] = [
  neowsFeed,
  donkiFlares,
  donkiCmes,
  donkiStorms,
  eonetEvents,
  apod,
  epicNatural,
  fireballs,
  meteoriteLandings,
  cmrGranules,
];

export function streamsFor(sources: readonly SourceId[]): NasaSource[] {
  return allStreams.filter((s) => sources.includes(s.source));
}
