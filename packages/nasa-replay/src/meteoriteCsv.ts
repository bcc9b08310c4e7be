import { parse } from 'csv-parse/sync';
import type { Rec } from './corpus';

/**
 * data.nasa.gov's Meteorite Landings CSV export (BOM, `mass (g)`, bare `year`, `GeoLocation` as "(lat, lon)") as the
 * rows its SODA JSON endpoint serves for the same dataset: every value a string, `year` a floating timestamp,
 * `geolocation` an object, and an empty cell an absent key (as SODA omits nulls); the test over the real captures
 * checks this against the SODA capture's rows for the same ids. The CSV's `States`/`Counties`
 * columns are SODA's derived `:@computed_region_*` keys, which have other names and codes: they are left out.
 */
export function sodaRowsFromCsv(csv: string | Buffer): Rec[] {
  const rows = parse(csv, { columns: true, bom: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r, i) => {
    const out: Rec = {};
    const put = (key: string, value: string | undefined): void => {
      if (value !== undefined && value !== '') out[key] = value;
    };
    for (const k of ['name', 'id', 'nametype', 'recclass']) put(k, r[k]);
    put('mass', r['mass (g)']);
    put('fall', r['fall']);
    if (r['year']) {
      if (!/^\d{1,4}$/.test(r['year'])) throw new Error(`meteorite CSV row ${i + 2}: year ${JSON.stringify(r['year'])} is not a year`);
      // The export writes Julian-calendar years (before 1583) one less than SODA serves (all 6 such rows the SODA
      // capture shares with the export: Elbogen 1399 vs 1400, Ensisheim 1491 vs 1492, …): SODA's year is served.
      const year = Number(r['year']) + (Number(r['year']) < 1583 ? 1 : 0);
      out['year'] = `${String(year).padStart(4, '0')}-01-01T00:00:00.000`;
    }
    put('reclat', r['reclat']);
    put('reclong', r['reclong']);
    const geo = /^\(\s*(-?[\d.]+),\s*(-?[\d.]+)\s*\)$/.exec(r['GeoLocation'] ?? '');
    if (geo) out['geolocation'] = { latitude: geo[1], longitude: geo[2] };
    return out;
  });
}
