import type { Window } from '../nasa/source';

/**
 * raw/<source>/<stream>/<yyyy>/<mm>/<dd>/<start>_<end>[.pNNNN].<sha16>.json
 * Content-addressed: the same bytes always get the same name (so re-landing is a no-op), and changed bytes
 * for the same window land beside the old blob as a new version.
 */
export function rawBlobName(source: string, stream: string, window: Window, sha256Hex: string, page?: number): string {
  const [y, m, d] = window.start.split('-');
  const pagePart = page === undefined ? '' : `.p${String(page).padStart(4, '0')}`;
  return `${source}/${stream}/${y}/${m}/${d}/${window.start}_${window.end}${pagePart}.${sha256Hex.slice(0, 16)}.json`;
}

export interface ParsedRawBlobName {
  source: string;
  stream: string;
  window: Window;
  page?: number;
  sha16: string;
}

const pattern =
  /^([a-z0-9-]+)\/([A-Za-z0-9_-]+)\/\d{4}\/\d{2}\/\d{2}\/(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})(?:\.p(\d{4,}))?\.([0-9a-f]{16})\.json$/;

/** Blobs that anyone else drops into raw/ may not follow the layout; those return undefined. */
export function parseRawBlobName(name: string): ParsedRawBlobName | undefined {
  const m = pattern.exec(name);
  if (!m) return undefined;
  return {
    source: m[1]!,
    stream: m[2]!,
    window: { start: m[3]!, end: m[4]! },
    ...(m[5] ? { page: Number(m[5]) } : {}),
    sha16: m[6]!,
  };
}
