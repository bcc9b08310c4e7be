import { randomBytes } from 'node:crypto';
import { TraceparentKey } from './names';

/**
 * W3C Trace Context `traceparent` (version 00): `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`.
 * Carried in Service Bus applicationProperties and the `traceparent` Databricks job parameter, so one trace
 * spans the landed blob, the dispatcher and the notebook run.
 */
export interface TraceContext {
  traceId: string;
  spanId: string;
  /** Bit 0 = sampled. */
  flags: number;
}

const RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const allZero = (s: string): boolean => /^0+$/.test(s);

const hex = (bytes: number): string => {
  // Never all zeros (invalid per spec).
  for (;;) {
    const h = randomBytes(bytes).toString('hex');
    if (!allZero(h)) return h;
  }
};

export const newTraceId = (): string => hex(16);
export const newSpanId = (): string => hex(8);

export function formatTraceparent(c: TraceContext): string {
  return `00-${c.traceId}-${c.spanId}-${(c.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Parses a traceparent; undefined when absent or malformed (a bad header starts a new trace, never fails a message). */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RE.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff' || allZero(traceId) || allZero(spanId)) return undefined;
  // Version 00 must have exactly four fields; later versions may append fields (regex already anchors to four).
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/** A new root trace (sampled). */
export function createTraceparent(): string {
  return formatTraceparent({ traceId: newTraceId(), spanId: newSpanId(), flags: 1 });
}

/** A child of `parent` (same trace, new span id); a new root when `parent` is missing or invalid. */
export function childTraceparent(parent?: string): string {
  const p = parseTraceparent(parent);
  return p ? formatTraceparent({ ...p, spanId: newSpanId() }) : createTraceparent();
}

/** Service Bus applicationProperties with the traceparent set (a copy; the input is not changed). */
export function withTraceparent<T extends Record<string, unknown>>(props: T | undefined, traceparent: string): T & { traceparent: string } {
  return { ...(props ?? ({} as T)), [TraceparentKey]: traceparent };
}

/** The valid traceparent in applicationProperties or job parameters, if any. */
export function traceparentFrom(props: Record<string, unknown> | undefined): string | undefined {
  const v = props?.[TraceparentKey];
  return parseTraceparent(v) ? String(v).trim().toLowerCase() : undefined;
}
