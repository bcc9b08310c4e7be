import type { NasaSource } from '../source';
import { apodPayload } from '../schemas';
import { parsePayload } from '../parse';
import { redactBody } from './common';

/** APOD: a start/end range returns an array; thumbs=true adds thumbnails for video days. */
export const apod: NasaSource = {
  source: 'apod',
  stream: 'apod',
  windowing: { kind: 'dated', maxDays: 30 },
  async *fetchWindow(w, ctx) {
    const res = await ctx.http.get(`${ctx.endpoints.nasaApi}/planetary/apod`, {
      params: { start_date: w.start, end_date: w.end, thumbs: true },
      withApiKey: true,
    });
    const body = redactBody(res.body, ctx.apiKey);
    yield { body, recordCount: parsePayload(body, apodPayload, 'APOD').length };
  },
};
