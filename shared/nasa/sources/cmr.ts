import type { NasaSource } from '../source';
import { cmrUmmPayload } from '../schemas';
import { parsePayload } from '../parse';

/**
 * CMR granule search for one collection, paged with search-after: the same query is resent with the
 * CMR-Search-After header of the previous page until a page comes back empty (docs/nasa-apis.md §7).
 * Each page lands as its own blob, so a result set is never held in memory whole.
 */
export const cmrGranules: NasaSource = {
  source: 'cmr',
  stream: 'granules',
  windowing: { kind: 'dated', maxDays: 1 },
  async *fetchWindow(w, ctx) {
    let searchAfter: string | undefined;
    for (let page = 1; ; page++) {
      const res = await ctx.http.get(`${ctx.endpoints.cmrApi}/granules.umm_json`, {
        params: {
          short_name: ctx.endpoints.cmrCollectionShortName,
          temporal: `${w.start}T00:00:00Z,${w.end}T23:59:59Z`,
          page_size: ctx.endpoints.cmrPageSize,
          sort_key: 'start_date',
        },
        headers: searchAfter ? { 'CMR-Search-After': searchAfter } : {},
      });
      const payload = parsePayload(res.body, cmrUmmPayload, `CMR granules page ${page}`);
      if (payload.items.length === 0 && page > 1) return;
      yield { body: res.body, recordCount: payload.items.length, page };
      searchAfter = res.headers['cmr-search-after'];
      if (!searchAfter || payload.items.length < ctx.endpoints.cmrPageSize) return;
    }
  },
};
