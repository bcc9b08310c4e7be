import type { NasaSource } from '../source';
import { eonetEventsPayload } from '../schemas';
import { parsePayload } from '../parse';

/** EONET v3 has no paging; a bounded start/end window with status=all keeps each call small. */
export const eonetEvents: NasaSource = {
  source: 'eonet',
  stream: 'events',
  windowing: { kind: 'dated', maxDays: 30 },
  async *fetchWindow(w, ctx) {
    const res = await ctx.http.get(`${ctx.endpoints.eonetApi}/events`, { params: { start: w.start, end: w.end, status: 'all' } });
    const payload = parsePayload(res.body, eonetEventsPayload, 'EONET events');
    yield { body: res.body, recordCount: payload.events.length };
  },
};
