import type { NasaSource } from '../source';
import { epicPayload } from '../schemas';
import { parsePayload } from '../parse';

/** EPIC natural-colour metadata, one day per call, from epic.gsfc.nasa.gov (the api.nasa.gov proxy has been unreliable). */
export const epicNatural: NasaSource = {
  source: 'epic',
  stream: 'natural',
  windowing: { kind: 'dated', maxDays: 1 },
  async *fetchWindow(w, ctx) {
    const res = await ctx.http.get(`${ctx.endpoints.epicApi}/natural/date/${w.start}`);
    yield { body: res.body, recordCount: parsePayload(res.body, epicPayload, 'EPIC natural', []).length };
  },
};
