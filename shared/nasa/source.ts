import type { SourceId } from '../config';
import type { NasaHttp } from './http';

/** An inclusive window of calendar days (UTC), ISO dates. */
export interface Window {
  start: string;
  end: string;
}

/** One upstream response body, redacted, ready to land as one blob. */
export interface FetchedPage {
  body: Buffer;
  recordCount: number;
  /** 1-based page number for paged sources; undefined for single-call sources. */
  page?: number;
}

export interface SourceEndpoints {
  nasaApi: string;
  epicApi: string;
  eonetApi: string;
  jplSsdApi: string;
  meteoritesUrl: string;
  cmrApi: string;
  cmrCollectionShortName: string;
  cmrPageSize: number;
  meteoritesPageSize: number;
}

export interface SourceContext {
  http: NasaHttp;
  endpoints: SourceEndpoints;
  apiKey: string;
}

export type Windowing =
  /** Dated windows of at most maxDays days, walking forward from the watermark. */
  | { kind: 'dated'; maxDays: number }
  /** A whole-dataset snapshot, taken at most once per day. */
  | { kind: 'snapshot' };

/** One NASA stream: where it lives and how one window of it is fetched and validated. */
export interface NasaSource {
  readonly source: SourceId;
  readonly stream: string;
  readonly windowing: Windowing;
  fetchWindow(window: Window, ctx: SourceContext): AsyncIterable<FetchedPage>;
}
