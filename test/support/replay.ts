import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { dedupe, emptyCorpus, loadFixtures, loadSamples, type Corpus } from '@orbiter/nasa-replay/corpus';

export const fixturesDir = resolve(__dirname, '..', 'fixtures', 'nasa');
/** The team's real captures, beside the checkout (absent on some machines). */
export const samplesDir = resolve(process.env['ORBITER_NASA_SAMPLES'] ?? resolve(__dirname, '..', '..', '..', 'shared', 'nasa-samples'));
export const haveSamples = existsSync(samplesDir);

export function fixtureCorpus(): Corpus {
  const c = emptyCorpus();
  loadFixtures(c, fixturesDir);
  return dedupe(c);
}

export function samplesCorpus(): Corpus {
  const c = emptyCorpus();
  loadSamples(c, samplesDir);
  return dedupe(c);
}
