import type { NasaSource } from '../source';
import { meteoritesPayload } from '../schemas';
import { parsePayload } from '../parse';

/** Socrata SODA rows come in no fixed order unless $order is given; page with $limit/$offset until a short page. */
export const meteoriteLandings: NasaSource = {
  source: 'meteorites',
  stream: 'landings',
  windowing: { kind: 'snapshot' },
  async *fetchWindow(_w, ctx) {
    const limit = ctx.endpoints.meteoritesPageSize;
    for (let page = 1; ; page++) {
      const res = await ctx.http.get(ctx.endpoints.meteoritesUrl, {
        params: { $limit: limit, $offset: (page - 1) * limit, $order: ':id' },
      });
      const rows = parsePayload(res.body, meteoritesPayload, `Meteorite landings page ${page}`);
      if (rows.length === 0 && page > 1) return;
      yield { body: res.body, recordCount: rows.length, page };
      if (rows.length < limit) return;
    }
  },
};
