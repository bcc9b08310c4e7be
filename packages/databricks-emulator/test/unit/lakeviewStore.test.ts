import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabricksErrorResponse } from '../../src/api/errors';
import { LakeviewStore, lakeviewRoutes } from '../../src/lakeviewStore';

type View = Record<string, unknown> & { dashboard_id: string; etag: string; serialized_dashboard: string };

describe('Lakeview dashboards of the local workspace (what `bundle deploy` calls)', () => {
  let dir: string;
  const folders = new Set(['/', '/Users', '/Users/me', '/Users/me/bundle']);
  const open = () => new LakeviewStore(dir, { directoryExists: (p) => folders.has(p), now: () => new Date('2026-12-06T05:00:00Z') });
  const call = (store: LakeviewStore, method: string, path: string, body: Record<string, unknown> = {}, query: Record<string, string> = {}) =>
    lakeviewRoutes(store, { method, path, query, body });
  const definition = JSON.stringify({ datasets: [{ name: 'a', queryLines: ['SELECT 1'] }], pages: [] });
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (e) {
      return e instanceof DatabricksErrorResponse ? `${e.status} ${e.errorCode}` : String(e);
    }
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lakeview-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a draft under an existing folder (the /Workspace prefix dropped), with the dataset catalog on every dataset', () => {
    const store = open();
    const created = call(
      store,
      'POST',
      '/api/2.0/lakeview/dashboards',
      {
        display_name: 'Insights',
        parent_path: '/Workspace/Users/me/bundle',
        warehouse_id: 'wh',
        serialized_dashboard: definition,
      },
      { dataset_catalog: 'orbiter' },
    ) as View;
    expect(created).toMatchObject({
      display_name: 'Insights',
      parent_path: '/Users/me/bundle',
      path: '/Users/me/bundle/Insights.lvdash.json',
      lifecycle_state: 'ACTIVE',
    });
    expect(JSON.parse(created.serialized_dashboard)).toEqual({ datasets: [{ name: 'a', queryLines: ['SELECT 1'], catalog: 'orbiter' }], pages: [] });
    expect(call(store, 'GET', `/api/2.0/lakeview/dashboards/${created.dashboard_id}`)).toEqual(created);
  });

  it('answers 404 for a missing parent folder (the CLI then creates it and retries) and 400 for bad input', () => {
    const store = open();
    expect(code(() => call(store, 'POST', '/api/2.0/lakeview/dashboards', { display_name: 'x', parent_path: '/Users/else' }))).toBe(
      '404 RESOURCE_DOES_NOT_EXIST',
    );
    expect(code(() => call(store, 'POST', '/api/2.0/lakeview/dashboards', { parent_path: '/Users/me' }))).toBe('400 INVALID_PARAMETER_VALUE');
    expect(code(() => call(store, 'POST', '/api/2.0/lakeview/dashboards', { display_name: 'x', serialized_dashboard: '{nope' }))).toBe(
      '400 INVALID_PARAMETER_VALUE',
    );
    expect(code(() => call(store, 'GET', '/api/2.0/lakeview/dashboards/nope'))).toBe('404 RESOURCE_DOES_NOT_EXIST');
    expect(code(() => call(store, 'PUT', '/api/2.0/lakeview/dashboards/nope'))).toBe('405 METHOD_NOT_ALLOWED');
  });

  it('updates with a new etag, refuses a stale one, publishes, and keeps it all across a restart', () => {
    const store = open();
    const created = call(store, 'POST', '/api/2.0/lakeview/dashboards', { display_name: 'Insights', parent_path: '/Users/me' }) as View;
    const path = `/api/2.0/lakeview/dashboards/${created.dashboard_id}`;
    expect(code(() => call(store, 'GET', `${path}/published`))).toBe('404 RESOURCE_DOES_NOT_EXIST');
    const updated = call(store, 'PATCH', path, { etag: created.etag, serialized_dashboard: definition }) as View;
    expect(updated.etag).not.toBe(created.etag);
    expect(code(() => call(store, 'PATCH', path, { etag: created.etag, display_name: 'Other' }))).toBe('409 ABORTED');
    expect(call(store, 'POST', `${path}/published`, { warehouse_id: 'wh', embed_credentials: false })).toEqual({
      display_name: 'Insights',
      warehouse_id: 'wh',
      embed_credentials: false,
      revision_create_time: '2026-12-06T05:00:00.000Z',
    });

    const reopened = open();
    expect(call(reopened, 'GET', path)).toEqual(updated);
    expect(call(reopened, 'GET', `${path}/published`)).toMatchObject({ embed_credentials: false });
    expect(reopened.has(created.dashboard_id)).toBe(true);
  });

  it('trashes on DELETE: get still answers TRASHED, updates and publishing are refused, the list no longer shows it', () => {
    const store = open();
    const created = call(store, 'POST', '/api/2.0/lakeview/dashboards', { display_name: 'Insights', parent_path: '/Users/me' }) as View;
    const path = `/api/2.0/lakeview/dashboards/${created.dashboard_id}`;
    call(store, 'DELETE', path);
    expect(call(store, 'GET', path)).toMatchObject({ lifecycle_state: 'TRASHED' });
    expect(code(() => call(store, 'PATCH', path, { display_name: 'x' }))).toBe('404 RESOURCE_DOES_NOT_EXIST');
    expect(code(() => call(store, 'POST', `${path}/published`))).toBe('404 RESOURCE_DOES_NOT_EXIST');
    expect(call(store, 'GET', '/api/2.0/lakeview/dashboards')).toEqual({});
    expect(store.has(created.dashboard_id)).toBe(false);
  });
});
