import { DatabricksErrorResponse, invalid } from './errors';

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

/**
 * A map<string, string> field (job_parameters, notebook_params): the API types every value as a string; scalars are
 * coerced to their JSON text as Databricks' JSON reader does, and objects, lists and null are rejected as unparsable.
 */
export function toParams(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw malformed(`Expected an object for field ${field}, found ${jsonKind(value)}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = JSON.stringify(v);
    else throw malformed(`Expected a string for field ${field}.${k}, found ${jsonKind(v)}`);
  }
  return out;
}

const jsonKind = (v: unknown): string =>
  v === null
    ? 'NULL'
    : Array.isArray(v)
      ? 'ARRAY'
      : typeof v === 'object'
        ? 'OBJECT'
        : typeof v === 'string'
          ? 'STRING'
          : typeof v === 'number'
            ? 'NUMBER'
            : 'BOOLEAN';

const malformed = (message: string): DatabricksErrorResponse =>
  new DatabricksErrorResponse(400, 'MALFORMED_REQUEST', `Could not parse request object: ${message}`);

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

/** Databricks rejects fields a request type does not have; the emulator names them instead of dropping them. */
export function rejectUnknownFields(body: Record<string, unknown>, allowed: readonly string[], request: string): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw invalid(`Unknown field${unknown.length > 1 ? 's' : ''} in ${request} request: ${unknown.join(', ')}.`);
}

/** A string list field (e.g. `only`, `rerun_tasks`), or INVALID_PARAMETER_VALUE naming it. */
export function toStringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalid(`${field} must be a list of strings`);
  return value as string[];
}
