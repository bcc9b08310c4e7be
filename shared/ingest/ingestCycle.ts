import type { OrbiterConfig, SourceId } from '../config';
import { Containers, Tables } from '../names';
import { RawLake, ensureContainers } from '../lake/rawLake';
import { quarantinePayload, type QuarantineArgs } from '../lake/quarantine';
import type { Logger } from '../logger';
import { NasaHttp } from '../nasa/http';
import type { SourceEndpoints, Window } from '../nasa/source';
import { streamsFor } from '../nasa/sources';
import type { StorageClients } from '../storage/clients';
import { ORBITER_VERSION } from '../version';
import { ingestStream, type StreamSummary } from './ingestStream';
import { TableWatermarkStore } from './watermarks';
import { addDays, toIsoDate } from './windows';

export interface CycleOptions {
  config: OrbiterConfig;
  storage: StorageClients;
  logger: Logger;
  now?: () => Date;
  /** Restrict to these sources (default: INGEST_SOURCES). */
  sources?: readonly SourceId[];
  /** Backfill an explicit date range instead of following the watermarks. */
  range?: { from: string; to: string };
  onProgress?: (s: StreamSummary, w: Window) => void;
  /** Told about every HTTP 429 from NASA (telemetry). */
  onThrottled?: (url: string) => void;
  signal?: AbortSignal;
}

export interface CycleSummary {
  startedAt: string;
  finishedAt: string;
  streams: StreamSummary[];
  ok: boolean;
}

export function endpointsFrom(config: OrbiterConfig): SourceEndpoints {
  return {
    nasaApi: config.NASA_API_BASE_URL.replace(/\/$/, ''),
    epicApi: config.EPIC_API_BASE_URL.replace(/\/$/, ''),
    eonetApi: config.EONET_API_BASE_URL.replace(/\/$/, ''),
    jplSsdApi: config.JPL_SSD_API_BASE_URL.replace(/\/$/, ''),
    meteoritesUrl: config.METEORITES_API_URL,
    cmrApi: config.CMR_API_BASE_URL.replace(/\/$/, ''),
    cmrCollectionShortName: config.CMR_COLLECTION_SHORT_NAME,
    cmrPageSize: config.CMR_PAGE_SIZE,
    meteoritesPageSize: config.METEORITES_PAGE_SIZE,
  };
}

/** One ingestion cycle over every configured stream; one stream's failure does not stop the others. */
export async function runIngestionCycle(opts: CycleOptions): Promise<CycleSummary> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const { config, storage, logger } = opts;
  const raw = storage.blobs.getContainerClient(Containers.raw);
  const quarantine = storage.blobs.getContainerClient(Containers.quarantine);
  await ensureContainers([raw, quarantine]);
  const watermarkTable = storage.table(Tables.watermarks);
  await watermarkTable.createTable();

  const http = new NasaHttp({
    apiKey: config.NASA_API_KEY,
    timeoutMs: config.HTTP_TIMEOUT_MS,
    backoff: { maxRetries: config.HTTP_MAX_RETRIES, baseDelayMs: 500, maxDelayMs: 30_000 },
    logger,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onThrottled ? { onThrottled: opts.onThrottled } : {}),
  });
  const today = toIsoDate(now());
  const deps = {
    lake: new RawLake(raw, ORBITER_VERSION, now, startedAt),
    quarantine: (a: QuarantineArgs) => quarantinePayload(quarantine, { ...a, at: now() }),
    watermarks: new TableWatermarkStore(watermarkTable, now),
    ctx: { http, endpoints: endpointsFrom(config), apiKey: config.NASA_API_KEY },
    logger,
    today,
    defaultStart: config.INGEST_START_DATE ?? addDays(today, -7),
    maxWindows: config.INGEST_MAX_WINDOWS_PER_RUN,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  };

  const streams: StreamSummary[] = [];
  for (const src of streamsFor(opts.sources ?? config.INGEST_SOURCES)) {
    if (opts.signal?.aborted) break;
    const defaultStart = config.INGEST_START_DATES?.[src.source] ?? deps.defaultStart;
    const s = await ingestStream(src, { ...deps, defaultStart }, opts.range);
    logger.info('ingested stream', {
      source: s.source,
      stream: s.stream,
      windows: s.windows.length,
      records: s.records,
      bytes: s.bytes,
      written: s.blobsWritten,
      skipped: s.blobsSkipped,
      errors: s.errors.length,
    });
    streams.push(s);
  }
  return { startedAt, finishedAt: now().toISOString(), streams, ok: streams.every((s) => s.errors.length === 0) };
}
