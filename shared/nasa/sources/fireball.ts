import { UpstreamShapeError } from '../../errors';
import type { NasaSource } from '../source';
import { fireballFields, jplSsdPayload } from '../schemas';
import { parsePayload } from '../parse';

/** JPL SSD fireball API: positional string cells; the field list is checked so a reorder cannot go unnoticed. */
export const fireballs: NasaSource = {
  source: 'fireball',
  stream: 'fireball',
  windowing: { kind: 'dated', maxDays: 30 },
  async *fetchWindow(w, ctx) {
    const res = await ctx.http.get(`${ctx.endpoints.jplSsdApi}/fireball.api`, {
      params: { 'date-min': w.start, 'date-max': `${w.end}T23:59:59` },
    });
    const payload = parsePayload(res.body, jplSsdPayload, 'JPL fireball');
    const count = Number(payload.count);
    if (count > 0) {
      const missing = fireballFields.filter((f) => !payload.fields?.includes(f));
      if (missing.length > 0) {
        throw new UpstreamShapeError(`JPL fireball: fields missing: ${missing.join(', ')}`, res.body);
      }
    }
    yield { body: res.body, recordCount: payload.data?.length ?? 0 };
  },
};
