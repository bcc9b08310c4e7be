import type { z } from 'zod';
import { UpstreamShapeError } from '../errors';

/**
 * JSON.parse + schema check. Either failure is an upstream shape change: the caller quarantines the raw bytes.
 * Some services answer an empty 200 for "no data" (DONKI); `emptyAs` turns that into a value.
 */
export function parsePayload<S extends z.ZodType>(body: Buffer, schema: S, what: string, emptyAs?: unknown): z.output<S> {
  const text = body.toString('utf8');
  let json: unknown;
  if (text.trim() === '' && emptyAs !== undefined) {
    json = emptyAs;
  } else {
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new UpstreamShapeError(`${what}: response is not valid JSON (${(err as Error).message})`, body, {}, err);
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UpstreamShapeError(`${what}: unexpected shape: ${issues.join('; ')}`, body, { issues });
  }
  return parsed.data;
}
