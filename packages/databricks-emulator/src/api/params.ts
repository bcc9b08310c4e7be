import { invalid } from './errors';

/** Request field readers: each names the field it rejects, as Databricks' INVALID_PARAMETER_VALUE messages do. */

export function toInt(value: unknown, field: string, required: true): number;
export function toInt(value: unknown, field: string, required: false): number | undefined;
export function toInt(value: unknown, field: string, required: boolean): number | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalid(`Missing required field: ${field}`);
    return undefined;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`Invalid value for ${field}: ${JSON.stringify(value)}`);
  return n;
}

export function toBool(value: unknown, field: string): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(`Invalid value for ${field}: ${JSON.stringify(value)}`);
}

export function toParams(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${field} must be an object of string values`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw invalid(`${field}.${k} must be a string`);
  }
  return out;
}

export function pageWindow(q: Record<string, unknown>, defaultLimit: number, maxLimit: number): { offset: number; limit: number } {
  const limit = toInt(q['limit'], 'limit', false) ?? defaultLimit;
  if (limit < 0 || limit > maxLimit) throw invalid(`limit must be between 0 and ${maxLimit} (got ${limit})`);
  let offset = toInt(q['offset'], 'offset', false) ?? 0;
  if (typeof q['page_token'] === 'string' && q['page_token'] !== '') {
    const decoded = Buffer.from(q['page_token'], 'base64url').toString('utf8');
    if (!/^\d+$/.test(decoded)) throw invalid('Invalid page_token');
    offset = Number(decoded);
  }
  if (offset < 0) throw invalid('offset must be >= 0');
  return { offset, limit: limit === 0 ? defaultLimit : limit };
}

const pageToken = (offset: number): string => Buffer.from(String(offset)).toString('base64url');

/** One page of `all` under `key`, with Databricks' has_more / next_page_token / prev_page_token. */
export function page<T>(all: T[], offset: number, limit: number, key: string, view: (item: T) => unknown): Record<string, unknown> {
  const items = all.slice(offset, offset + limit);
  const hasMore = offset + limit < all.length;
  return {
    ...(items.length > 0 ? { [key]: items.map(view) } : {}),
    has_more: hasMore,
    ...(hasMore ? { next_page_token: pageToken(offset + limit) } : {}),
    ...(offset > 0 ? { prev_page_token: pageToken(Math.max(0, offset - limit)) } : {}),
  };
}
