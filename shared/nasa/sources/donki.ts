import type { z } from 'zod';
import type { NasaSource } from '../source';
import { donkiCmePayload, donkiFlrPayload, donkiGstPayload } from '../schemas';
import { parsePayload } from '../parse';
import { redactBody } from './common';

/** DONKI returns the whole window as one array (no paging); windows of 30 days as the captures do. */
function donki(type: 'FLR' | 'CME' | 'GST', schema: z.ZodArray<z.ZodType>): NasaSource {
  return {
    source: 'donki',
    stream: type,
    windowing: { kind: 'dated', maxDays: 30 },
    async *fetchWindow(w, ctx) {
      const res = await ctx.http.get(`${ctx.endpoints.nasaApi}/DONKI/${type}`, {
        params: { startDate: w.start, endDate: w.end },
        withApiKey: true,
      });
      const body = redactBody(res.body, ctx.apiKey);
      // DONKI answers an empty 200 body for an empty window on some paths; treat it as [].
      const events: unknown[] = parsePayload(body, schema, `DONKI ${type}`, []);
      yield { body: body.length === 0 ? Buffer.from('[]') : body, recordCount: events.length };
    },
  };
}

export const donkiFlares = donki('FLR', donkiFlrPayload);
export const donkiCmes = donki('CME', donkiCmePayload);
export const donkiStorms = donki('GST', donkiGstPayload);
