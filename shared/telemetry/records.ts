import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** One line of the local telemetry files (.orbiter/telemetry/<yyyy-mm-dd>.jsonl). */
export const telemetryRecordSchema = z.object({
  ts: z.string(),
  service: z.string().optional(),
  type: z.enum(['event', 'counter', 'histogram', 'gauge', 'span']),
  name: z.string(),
  value: z.number().optional(),
  dims: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  traceId: z.string().optional(),
  spanId: z.string().optional(),
  parentSpanId: z.string().optional(),
  durationMs: z.number().optional(),
  status: z.enum(['ok', 'error']).optional(),
  error: z.string().optional(),
});
export type TelemetryRecord = z.infer<typeof telemetryRecordSchema>;

/**
 * Reads local telemetry records at or after `since` (files of earlier days are skipped by name). Malformed lines
 * (a torn write, a hand edit) are skipped: monitoring must keep working over imperfect files.
 */
export function readTelemetry(dir: string, since?: Date): TelemetryRecord[] {
  if (!existsSync(dir)) return [];
  const sinceIso = since?.toISOString();
  const sinceDay = sinceIso?.slice(0, 10);
  const out: TelemetryRecord[] = [];
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()) {
    if (sinceDay && /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(f) && f.slice(0, 10) < sinceDay) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      const r = telemetryRecordSchema.safeParse(parsed);
      if (r.success && (!sinceIso || r.data.ts >= sinceIso)) out.push(r.data);
    }
  }
  return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}
