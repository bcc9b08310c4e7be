import { createReadStream, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ServiceBusClient } from '@azure/service-bus';
import type { Logger } from 'orbiter/shared/logger';
import type { StorageClients } from 'orbiter/shared/storage/clients';
import { localMonitoringData, type MonitoringData } from '../alerts/data';
import type { AlertEvaluator } from '../alerts/evaluator';
import type { OptimizeReport } from '../optimize/report';
import { isOwnHost, isOwnOrigin } from 'orbiter/shared/http/hostCheck';
import { databricksRedirect } from './runLinks';
import { findDefinition } from './lakeview/definition';
import { handleLakeviewRequest } from './lakeview/routes';
import type { LakeviewSource } from './lakeview/model';
import { dashboardHtml } from './page';
import { buildSnapshot, type DashboardSnapshot } from './snapshot';

export interface DashboardOptions {
  /** 0 = any free port. */
  port: number;
  host?: string;
  storage: StorageClients;
  bus?: ServiceBusClient;
  /** Evaluated on every refresh (it prints newly firing alerts itself); its alerts are shown. */
  alertEvaluator: AlertEvaluator;
  logger: Logger;
  /** Local telemetry JSON lines (.orbiter/telemetry). */
  telemetryDir?: string;
  /** PNG charts from the gold tables (.orbiter/charts); the Lakeview datasets are in its datasets/ folder. */
  chartsDir?: string;
  /** The bundle's .lvdash.json (default: found under notebooks/); the widgets need chartsDir too. */
  lakeviewDefinition?: string;
  /** Overrides the data read from storage/bus/telemetryDir (tests). */
  data?: MonitoringData;
  /** Sources listed under ingestion (default: all; the stack passes INGEST_SOURCES). */
  sources?: readonly string[];
  /** The cost and sizing report of the last days (GET /api/optimize); omitted = the panel says it is not connected. */
  optimizeReport?: () => Promise<OptimizeReport>;
  /** The Databricks workspace running now (the local emulator's URL): /databricks/jobs/<job>/runs/<run> redirects there. */
  databricksUrl?: () => string | undefined;
  /** How often the snapshot is recomputed while a browser listens (default 2000 ms). */
  refreshMs?: number;
}

export interface Dashboard {
  url: string;
  /** The current data, as served at /api/snapshot. */
  snapshot(): Promise<DashboardSnapshot>;
  /** Where the Lakeview widgets come from (for the static page), when a definition was found. */
  lakeview?: LakeviewSource;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/**
 * The local monitoring dashboard: one HTML page, JSON endpoints (/api/snapshot, /api/runs, /api/ingestion,
 * /api/queues, /api/alerts, /api/charts), chart PNGs (/charts/<name>.png) and Server-Sent Events (/api/stream) that
 * push a new snapshot whenever it changes, so the page updates without a reload.
 */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const data =
    o.data ??
    localMonitoringData({ storage: o.storage, ...(o.bus ? { bus: o.bus } : {}), ...(o.telemetryDir ? { telemetryDir: o.telemetryDir } : {}) });
  const definition = o.lakeviewDefinition ?? findDefinition();
  const lakeview: LakeviewSource | undefined = definition && o.chartsDir ? { definition, chartsDir: o.chartsDir } : undefined;
  const snapshot = (): Promise<DashboardSnapshot> =>
    buildSnapshot({
      ...(lakeview ? { lakeview } : {}),
      data,
      alerts: () => o.alertEvaluator.evaluate(),
      ...(o.chartsDir ? { chartsDir: o.chartsDir } : {}),
      ...(o.sources ? { sources: o.sources } : {}),
    });

  const clients = new Set<ServerResponse>();
  let lastBody = '';
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let busy = false;

  const push = async (): Promise<void> => {
    if (busy || clients.size === 0) return;
    busy = true;
    try {
      const snap = await snapshot();
      // generatedAt changes every time: compare the rest so unchanged data sends nothing.
      const body = JSON.stringify({ ...snap, generatedAt: '' });
      if (body !== lastBody) {
        lastBody = body;
        const frame = `event: snapshot\ndata: ${JSON.stringify(snap)}\n\n`;
        for (const c of clients) c.write(frame);
      } else {
        for (const c of clients) c.write(': keep-alive\n\n');
      }
    } catch (err) {
      o.logger.warn('dashboard refresh failed', { error: String(err) });
    } finally {
      busy = false;
    }
  };
  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => void push().finally(schedule), o.refreshMs ?? 2000);
    timer.unref(); // the HTTP server keeps the process alive, never this timer
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const own = (server.address() as AddressInfo).port;
    if (!isOwnHost(req.headers.host, own, o.host))
      return json(res, 421, { title: 'misdirected request', detail: `Host "${String(req.headers.host)}" is not this dashboard` });
    if (!isOwnOrigin(req.headers.origin, own, o.host)) return json(res, 403, { title: 'cross-origin request refused' });
    if (req.method !== 'GET') return json(res, 405, { title: 'method not allowed' });
    switch (url.pathname) {
      case '/':
      case '/index.html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(dashboardHtml());
        return;
      case '/api/snapshot':
        return json(res, 200, await snapshot());
      case '/api/optimize':
        if (!o.optimizeReport) return json(res, 200, { error: 'No Databricks workspace connected to the dashboard.' });
        try {
          return json(res, 200, await o.optimizeReport());
        } catch (err) {
          return json(res, 200, { error: `cost report failed: ${err instanceof Error ? err.message : String(err)}` });
        }
      case '/api/runs':
      case '/api/ingestion':
      case '/api/queues':
      case '/api/alerts':
      case '/api/charts': {
        const snap = await snapshot();
        const key = url.pathname.slice(5) as 'runs' | 'ingestion' | 'queues' | 'alerts' | 'charts';
        return json(res, 200, { [key]: snap[key], errors: snap.errors });
      }
      case '/api/stream': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write('retry: 2000\n\n');
        clients.add(res);
        req.on('close', () => clients.delete(res));
        // A new listener always gets the current state at once.
        const snap = await snapshot();
        res.write(`event: snapshot\ndata: ${JSON.stringify(snap)}\n\n`);
        return;
      }
    }
    if (url.pathname.startsWith('/databricks/')) {
      const workspace = o.databricksUrl?.();
      const to = workspace ? databricksRedirect(url.pathname, workspace) : undefined;
      if (!to) return json(res, 404, { title: workspace ? 'not a run page path' : 'no Databricks workspace connected to the dashboard' });
      res.writeHead(302, { location: to, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (handleLakeviewRequest(url.pathname, res, lakeview)) return;
    const chart = /^\/charts\/([\w.-]+\.png)$/i.exec(url.pathname);
    if (chart && o.chartsDir && existsSync(join(o.chartsDir, chart[1]!))) {
      res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' });
      createReadStream(join(o.chartsDir, chart[1]!)).pipe(res);
      return;
    }
    json(res, 404, { title: 'not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.logger.error('dashboard request failed', { url: req.url, error: String(err) });
      if (!res.headersSent) json(res, 500, { title: 'internal error', detail: String(err) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${o.host ?? '127.0.0.1'}:${port}`;
  schedule();
  o.logger.info(`Dashboard at ${url}`);

  return {
    url,
    snapshot,
    ...(lakeview ? { lakeview } : {}),
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const c of clients) c.end();
      clients.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}
