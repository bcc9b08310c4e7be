import type { NasaSource } from '../source';
import { neoFeedPayload } from '../schemas';
import { parsePayload } from '../parse';
import { redactBody } from './common';

/** NeoWs feed: at most 7 days per call (docs/nasa-apis.md §1); the links echo the key, so the body is redacted. */
export const neowsFeed: NasaSource = {
  source: 'neows',
  stream: 'feed',
  windowing: { kind: 'dated', maxDays: 7 },
  async *fetchWindow(w, ctx) {
    const res = await ctx.http.get(`${ctx.endpoints.nasaApi}/neo/rest/v1/feed`, {
      params: { start_date: w.start, end_date: w.end },
      withApiKey: true,
    });
    const body = redactBody(res.body, ctx.apiKey);
    const feed = parsePayload(body, neoFeedPayload, 'NeoWs feed');
    const recordCount = Object.values(feed.near_earth_objects).reduce((n, day) => n + day.length, 0);
    yield { body, recordCount };
  },
};
