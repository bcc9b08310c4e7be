import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isOwnHost } from 'orbiter/shared/http/hostCheck';
import { z } from 'zod';
import type { Corpus, Rec } from './corpus';
import { dayOf, donkiDay, eonetDays, granuleBegin, granuleEnd, granuleId, inCollection } from './records';

/**
 * A local stand-in for every NASA API Orbiter calls, answering from recorded records with the real APIs' paging,
 * date windows, limits and error bodies. Faults (429 with Retry-After, 5xx, malformed JSON, delays) can be
 * injected per path for tests and fault drills.
 */
export const faultSchema = z.object({
  /** Regex tested against the request path (e.g. "^/DONKI/FLR"). */
  path: z.string(),
  /** How many matching requests to disturb (then the fault is spent). */
  count: z.number().int().positive().default(1),
  kind: z.enum(['status', 'malformed', 'delay']),
  status: z.number().int().min(400).max(599).default(503),
  retryAfter: z.string().optional(),
  delayMs: z.number().int().nonnegative().default(0),
});
export type Fault = z.input<typeof faultSchema>;

export interface ReplayServer {
  url: string;
  /** Base URLs to put in Orbiter's configuration (NASA_API_BASE_URL etc.). */
  settings: Record<string, string>;
  addFault(f: Fault): void;
  requests: { path: string; query: Record<string, string>; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

const ymd = /^\d{4}-\d{2}-\d{2}$/;
const inRange = (d: string, a: string, b: string): boolean => d >= a && d <= b;
const plusDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

export interface ReplayOptions {
  port?: number;
  host?: string;
  /** The clock behind the APIs' "today" defaults (APOD end_date, DONKI's 30-day window, NeoWs end_date). */
  now?: () => Date;
}

const MAX_FAULT_BODY = 16 * 1024;

/** The request body as text, or undefined (and the rest discarded) once it passes MAX_FAULT_BODY. */
const readSmallBody = (req: IncomingMessage): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_FAULT_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_FAULT_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export async function startReplayServer(corpus: Corpus, opts: ReplayOptions = {}): Promise<ReplayServer> {
  const faults: z.output<typeof faultSchema>[] = [];
  const requests: ReplayServer['requests'] = [];
  let base = '';
  const today = (): string => (opts.now ?? (() => new Date()))().toISOString().slice(0, 10);
  // SODA pages in a stable order ($order=:id); sorted once, not per page.
  const meteorites = [...corpus.meteorites].sort((a, b) => Number(a['id']) - Number(b['id']));

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => json(res, 500, { error: String(err) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://replay');
    const q = Object.fromEntries(url.searchParams);
    const path = url.pathname;
    // DNS rebinding: a hostile page resolving to 127.0.0.1 must not inject faults or read the corpus.
    const port = (server.address() as AddressInfo | null)?.port ?? 0;
    if (!isOwnHost(req.headers.host, port, opts.host)) return json(res, 421, { error: 'Host is not this replay server.' });
    if (path === '/__replay/faults' && req.method === 'POST') {
      const body = await readSmallBody(req);
      if (body === undefined) return json(res, 413, { error: `fault body over ${MAX_FAULT_BODY} bytes` });
      let value: unknown;
      try {
        value = JSON.parse(body || '{}');
      } catch {
        return json(res, 400, { error: 'fault body is not JSON' });
      }
      const parsed = faultSchema.safeParse(value);
      if (!parsed.success) return json(res, 400, { error: parsed.error.message });
      faults.push(parsed.data);
      return json(res, 201, { ok: true });
    }
    requests.push({ path, query: q, headers: req.headers });
    const fault = faults.find((f) => f.count > 0 && new RegExp(f.path).test(path));
    if (fault) {
      fault.count--;
      if (fault.kind === 'delay') await new Promise((r) => setTimeout(r, fault.delayMs));
      else if (fault.kind === 'malformed') return raw(res, 200, '{"this is": not json', 'application/json');
      else {
        const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
        const body =
          fault.status === 429
            ? { error: { code: 'OVER_RATE_LIMIT', message: 'You have exceeded your rate limit. Try again later.' } }
            : { error: { code: 'SERVER_ERROR', message: 'replayed fault' } };
        return json(res, fault.status, body, headers);
      }
    }
    return route(path, q, req, res);
  }

  function needKey(q: Record<string, string>, res: ServerResponse): boolean {
    if (q['api_key']) {
      res.setHeader('x-ratelimit-limit', '1000');
      res.setHeader('x-ratelimit-remaining', '999');
      return true;
    }
    json(res, 403, { error: { code: 'API_KEY_MISSING', message: 'No api_key was supplied. Get one at https://api.nasa.gov:443' } });
    return false;
  }

  function route(path: string, q: Record<string, string>, req: IncomingMessage, res: ServerResponse): void {
    // api.nasa.gov: NeoWs feed (at most 7 days; links echo the key, like the real service)
    if (path === '/neo/rest/v1/feed') {
      if (!needKey(q, res)) return;
      const start = q['start_date'] ?? '';
      const end = q['end_date'] ?? (ymd.test(start) ? plusDays(start, 7) : '');
      if (!ymd.test(start) || !ymd.test(end))
        return json(res, 400, { code: 400, http_error: 'BAD_REQUEST', error_message: 'Date Format Exception - Expected format (yyyy-mm-dd)' });
      if ((Date.parse(end) - Date.parse(start)) / 86_400_000 > 7) {
        return json(res, 400, { code: 400, http_error: 'BAD_REQUEST', error_message: 'Date Format Exception - The Feed date limit is only 7 Days' });
      }
      const near: Record<string, Rec[]> = {};
      for (const { date, neo } of corpus.neows) if (inRange(date, start, end)) (near[date] ??= []).push(neo);
      const link = (a: string, b: string): string => `${base}/neo/rest/v1/feed?start_date=${a}&end_date=${b}&detailed=false&api_key=${q['api_key']}`;
      const span = Math.round((Date.parse(end) - Date.parse(start)) / 86_400_000);
      return json(res, 200, {
        links: {
          next: link(plusDays(end, 1), plusDays(end, 1 + span)),
          previous: link(plusDays(start, -1 - span), plusDays(start, -1)),
          self: link(start, end),
        },
        element_count: Object.values(near).reduce((n, l) => n + l.length, 0),
        near_earth_objects: near,
      });
    }
    const donki = /^\/DONKI\/(FLR|CME|GST)$/.exec(path);
    if (donki) {
      if (!needKey(q, res)) return;
      const t = donki[1] as 'FLR' | 'CME' | 'GST';
      // Unset, DONKI's window is the 30 days up to today.
      const end = q['endDate'] ?? today();
      const start = q['startDate'] ?? plusDays(end, -30);
      const hits = corpus.donki[t].filter((e) => inRange(donkiDay(t, e), start, end));
      // The real DONKI answers an empty body, not [], for some empty windows.
      return hits.length === 0 && t === 'GST' ? raw(res, 200, '', 'application/json') : json(res, 200, hits);
    }
    if (path === '/planetary/apod') {
      if (!needKey(q, res)) return;
      if (q['date'] && (q['start_date'] || q['end_date']))
        return json(res, 400, { code: 400, msg: 'Bad Request: invalid field combination passed.', service_version: 'v1' });
      const start = q['start_date'] ?? q['date'] ?? today();
      const end = q['end_date'] ?? (q['date'] ? start : today());
      if (start > end) return json(res, 400, { code: 400, msg: 'start_date cannot be after end_date', service_version: 'v1' });
      const hits = corpus.apod.filter((a) => inRange(String(a['date']), start, end));
      return q['date']
        ? hits[0]
          ? json(res, 200, hits[0])
          : json(res, 404, { code: 404, msg: `No data available for date: ${start}`, service_version: 'v1' })
        : json(res, 200, hits);
    }
    // EONET v3
    if (path === '/eonet/api/v3/events') {
      const start = q['start'] ?? '0000-00-00';
      const end = q['end'] ?? '9999-99-99';
      const status = q['status'] ?? 'open';
      const events = corpus.eonet.filter((e) => {
        const closed = e['closed'] !== null && e['closed'] !== undefined;
        if (status === 'open' && closed) return false;
        if (status === 'closed' && !closed) return false;
        const dates = eonetDays(e);
        return dates.length > 0 && dates[0]! <= end && dates[dates.length - 1]! >= start;
      });
      return json(res, 200, { title: 'EONET Events', description: 'Natural events from EONET.', link: `${base}/eonet/api/v3/events`, events });
    }
    // EPIC (epic.gsfc.nasa.gov/api)
    const epic = /^\/epic\/api\/natural\/date\/(\d{4}-\d{2}-\d{2})$/.exec(path);
    if (epic)
      return json(
        res,
        200,
        corpus.epic.filter((e) => dayOf(e['date']) === epic[1]),
      );
    // JPL SSD fireball API
    if (path === '/jpl/fireball.api') {
      const min = q['date-min'] ?? '0000';
      const max = q['date-max'] ?? '9999';
      const di = corpus.fireball.fields.indexOf('date');
      const rows = corpus.fireball.rows
        .filter((r) => {
          const d = String(r[di]).replace(' ', 'T');
          return d >= min && d <= max.replace(' ', 'T');
        })
        .sort((a, b) => String(b[di]).localeCompare(String(a[di])));
      const sig = { source: 'NASA/JPL Fireball Data API', version: '1.2' };
      // Like the real API, zero matches come back without fields/data.
      return json(
        res,
        200,
        rows.length === 0
          ? { signature: sig, count: '0' }
          : { signature: sig, count: String(rows.length), fields: corpus.fireball.fields, data: rows },
      );
    }
    // data.nasa.gov Socrata SODA
    if (path === '/socrata/resource/gh4g-9sfh.json') {
      const limit = Number(q['$limit'] ?? 1000);
      const offset = Number(q['$offset'] ?? 0);
      if (!Number.isInteger(limit) || limit < 0 || limit > 50_000 || !Number.isInteger(offset) || offset < 0) {
        return json(res, 400, { code: 'query.compiler.malformed', error: true, message: 'Invalid $limit or $offset' });
      }
      return json(res, 200, meteorites.slice(offset, offset + limit));
    }
    // NASA CMR granule search, search-after paging
    if (path === '/cmr/search/granules.umm_json') {
      const pageSize = Math.min(Number(q['page_size'] ?? 10), 2000);
      const [from, to] = (q['temporal'] ?? ',').split(',');
      const begin = granuleBegin;
      const id = granuleId;
      const all = corpus.cmr
        .filter((i) => !q['short_name'] || inCollection(i, q['short_name']))
        .filter((i) => (!to || begin(i) <= to) && (!from || granuleEnd(i) >= from))
        .sort((a, b) => begin(a).localeCompare(begin(b)) || id(a).localeCompare(id(b)));
      const after = req.headers['cmr-search-after'];
      let startIdx = 0;
      if (typeof after === 'string') {
        let key: unknown;
        try {
          key = JSON.parse(after);
        } catch {
          return json(res, 400, { errors: ['Invalid CMR-Search-After header'] });
        }
        const [b, i] = key as [string, string];
        startIdx = all.findIndex((x) => `${begin(x)}|${id(x)}` > `${b}|${i}`);
        if (startIdx < 0) startIdx = all.length;
      }
      const page = all.slice(startIdx, startIdx + pageSize);
      const last = page[page.length - 1];
      const headers: Record<string, string> = { 'cmr-hits': String(all.length), 'cmr-took': '3' };
      if (last) headers['cmr-search-after'] = JSON.stringify([begin(last), id(last)]);
      return json(res, 200, { hits: all.length, took: 3, items: page }, headers);
    }
    json(res, 404, { error: { code: 'NOT_FOUND', message: `No replay route for ${path}` } });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    settings: {
      NASA_API_BASE_URL: base,
      EPIC_API_BASE_URL: `${base}/epic/api`,
      EONET_API_BASE_URL: `${base}/eonet/api/v3`,
      JPL_SSD_API_BASE_URL: `${base}/jpl`,
      METEORITES_API_URL: `${base}/socrata/resource/gh4g-9sfh.json`,
      CMR_API_BASE_URL: `${base}/cmr/search`,
    },
    addFault: (f) => faults.push(faultSchema.parse(f)),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  raw(res, status, JSON.stringify(body), 'application/json', headers);
}

function raw(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(body);
}
