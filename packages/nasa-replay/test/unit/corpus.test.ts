import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyCorpus, isEvaluationCapture, loadSamples } from '@orbiter/nasa-replay/corpus';

// The samples' MANIFEST reserves heldout_* and *_part2* captures for evaluation: the replay must never serve them.
describe('loadSamples', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orbiter-samples-'));
    const put = (rel: string, body: unknown): void => {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), JSON.stringify(body));
    };
    const fireball = (date: string) => ({ fields: ['date', 'energy'], data: [[date, '1.0']] });
    put('fireball/fireball_all.json', fireball('2024-01-01 00:00:00'));
    put('fireball/fireball_all_part2.json', fireball('1999-09-09 09:09:09'));
    put('fireball/heldout_fireball.json', fireball('1888-08-08 08:08:08'));
    put('donki/FLR_2024-05.json', [{ flrID: 'kept' }]);
    put('donki/FLR_2017-09_part2.json', [{ flrID: 'evaluation' }]);
    put('meteorites/landings.json', [{ id: 'kept' }]);
    put('meteorites/landings_part2.json', [{ id: 'evaluation' }]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the captures and skips every evaluation file', () => {
    const c = emptyCorpus();
    expect(loadSamples(c, dir)).toEqual(['donki/FLR_2024-05.json', 'fireball/fireball_all.json', 'meteorites/landings.json']);
    expect(c.fireball.rows.map((r) => r[0])).toEqual(['2024-01-01 00:00:00']);
    expect(c.donki.FLR.map((r) => r['flrID'])).toEqual(['kept']);
    expect(c.meteorites.map((r) => r['id'])).toEqual(['kept']);
  });

  it.each([
    ['heldout_CME_2017-09.json', true],
    ['events_open_2025-11-10_part2.json', true],
    ['Meteorite_Landings_part2.csv', true],
    ['events_open_2025-11-10_first25.json', false],
    ['feed_2024-05-25_2024-06-01.json', false],
  ])('isEvaluationCapture(%s) = %s', (name, expected) => {
    expect(isEvaluationCapture(name)).toBe(expected);
  });
});
