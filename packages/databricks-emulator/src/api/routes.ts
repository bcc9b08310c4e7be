import type { JobsEngine } from '../engine';
import { clusterView } from './clusterViews';
import { DatabricksErrorResponse } from './errors';

export type Handler = (query: Record<string, unknown>, body: Record<string, unknown>) => unknown;
export interface Route {
  method: 'GET' | 'POST';
  handle: Handler;
}

/**
 * Jobs API 2.2 run routes the emulator serves (2.1 paths are mapped onto them by the server). Jobs themselves
 * (create/reset/update/delete/get/list) are served by the workspace API over ../jobStore.ts.
 */
export function jobsRoutes(engine: JobsEngine): Record<string, Route> {
  return {
    '/api/2.2/jobs/run-now': { method: 'POST', handle: (_q, b) => engine.runs.runNow(b) },
    '/api/2.2/jobs/runs/submit': { method: 'POST', handle: (_q, b) => engine.runs.submit(b) },
    '/api/2.2/jobs/runs/get': { method: 'GET', handle: (q) => engine.runs.get(q) },
    '/api/2.2/jobs/runs/list': { method: 'GET', handle: (q) => engine.runs.list(q) },
    '/api/2.2/jobs/runs/cancel': { method: 'POST', handle: (_q, b) => engine.runs.cancel(b) },
    '/api/2.2/jobs/runs/cancel-all': { method: 'POST', handle: (_q, b) => engine.runs.cancelAll(b) },
    '/api/2.2/jobs/runs/delete': { method: 'POST', handle: (_q, b) => engine.runs.delete(b) },
    '/api/2.2/jobs/runs/export': { method: 'GET', handle: (q) => engine.runs.export(q) },
    '/api/2.2/jobs/runs/get-output': { method: 'GET', handle: (q) => engine.runs.output(q) },
    '/api/2.2/jobs/runs/repair': { method: 'POST', handle: (_q, b) => engine.runs.repair(b) },
  };
}

/** Clusters API reads of the job clusters runs start (2.0 and 2.1 paths). */
export function clustersRoutes(engine: JobsEngine): Record<string, Route> {
  const get: Route = {
    method: 'GET',
    handle: (q) => {
      const id = typeof q['cluster_id'] === 'string' ? q['cluster_id'] : '';
      if (id === '') throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: cluster_id');
      const c = engine.clusters.get(id);
      if (!c) throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Cluster ${id} does not exist`);
      return clusterView(c);
    },
  };
  const list: Route = { method: 'GET', handle: () => ({ clusters: engine.clusters.list().map(clusterView) }) };
  return {
    '/api/2.0/clusters/get': get,
    '/api/2.1/clusters/get': get,
    '/api/2.0/clusters/list': list,
    '/api/2.1/clusters/list': list,
  };
}

/** Looks a run route up: undefined for a path it does not serve, 405 for a known path with another method. */
export function findRoute(routes: Record<string, Route>, method: string, path: string): Route | undefined {
  const route = routes[path];
  if (route && method !== route.method) throw new DatabricksErrorResponse(405, 'METHOD_NOT_ALLOWED', `${method} is not supported for ${path}`);
  return route;
}

/** What a request nobody serves gets: 501 for the rest of the Jobs API, else 404. */
export function notServed(method: string, path: string): DatabricksErrorResponse {
  if (/^\/api\/2\.\d\/jobs\//.test(path))
    return new DatabricksErrorResponse(
      501,
      'NOT_IMPLEMENTED',
      `${method} ${path} is part of the Jobs API but not implemented by the local Databricks emulator.`,
    );
  return new DatabricksErrorResponse(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${path}'`);
}
