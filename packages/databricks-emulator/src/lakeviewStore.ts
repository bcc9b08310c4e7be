import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DatabricksErrorResponse } from './api/errors';

/**
 * AI/BI (Lakeview) dashboards of the local workspace, as `databricks bundle deploy` manages them: create, get, update
 * (PATCH), trash, publish and get-published, kept in <dir>/dashboards.json so a deployed dashboard survives restarts.
 * The draft's serialized_dashboard is stored as given (dataset_catalog/dataset_schema set each dataset's catalog and
 * schema, as Databricks does); every change gets a new etag. Dashboards are not workspace-tree objects here.
 */

const PublishedSchema = z.object({
  display_name: z.string(),
  warehouse_id: z.string().optional(),
  embed_credentials: z.boolean(),
  revision_create_time: z.string(),
});
const RecordSchema = z.object({
  dashboard_id: z.string(),
  display_name: z.string(),
  parent_path: z.string(),
  path: z.string(),
  warehouse_id: z.string().optional(),
  serialized_dashboard: z.string(),
  etag: z.string(),
  create_time: z.string(),
  update_time: z.string(),
  lifecycle_state: z.enum(['ACTIVE', 'TRASHED']),
  published: PublishedSchema.optional(),
});
type DashboardRecord = z.infer<typeof RecordSchema>;
const FileSchema = z.object({ version: z.literal(1), dashboards: z.array(RecordSchema) });

const DashboardBody = z.looseObject({
  display_name: z.string().min(1).optional(),
  parent_path: z.string().min(1).optional(),
  warehouse_id: z.string().optional(),
  serialized_dashboard: z.string().optional(),
  etag: z.string().optional(),
});
const PublishBody = z.looseObject({ warehouse_id: z.string().optional(), embed_credentials: z.boolean().optional() });

const invalid = (message: string): DatabricksErrorResponse => new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', message);

export interface LakeviewDeps {
  /** Whether a workspace folder exists (canonical or /Workspace-prefixed path). */
  directoryExists(path: string): boolean;
  now?: () => Date;
}

/** /Workspace/Users/x -> /Users/x: Databricks answers parent_path without the /Workspace prefix. */
function canonical(path: string): string {
  const p = path.replace(/\/+$/, '');
  return p === '' || p === '/Workspace' ? '/' : p.startsWith('/Workspace/') ? p.slice('/Workspace'.length) : p;
}

function parseBody<T>(schema: z.ZodType<T>, body: Record<string, unknown>): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`Invalid ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'malformed'}`);
  }
  return parsed.data;
}

/** Checks the serialized dashboard is a JSON object and applies the default catalog/schema to every dataset. */
function serialize(text: string | undefined, catalog: string | undefined, schema: string | undefined): string {
  if (text === undefined || text === '') return JSON.stringify({ pages: [] });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid('serialized_dashboard is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('serialized_dashboard must be a JSON object');
  const datasets = (doc as { datasets?: unknown }).datasets;
  if (datasets !== undefined && !Array.isArray(datasets)) throw invalid('serialized_dashboard.datasets must be a list');
  if (!catalog && !schema) return text;
  for (const d of (datasets ?? []) as Record<string, unknown>[]) {
    if (catalog) d['catalog'] = catalog;
    if (schema) d['schema'] = schema;
  }
  return JSON.stringify(doc);
}

export class LakeviewStore {
  private readonly dashboards = new Map<string, DashboardRecord>();
  private readonly file: string;
  private readonly now: () => Date;

  constructor(
    dir: string,
    private readonly deps: LakeviewDeps,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'dashboards.json');
    this.now = deps.now ?? (() => new Date());
    if (existsSync(this.file)) {
      const parsed = FileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (!parsed.success) throw new Error(`${this.file} is not a dashboards file: ${parsed.error.message}`);
      for (const d of parsed.data.dashboards) this.dashboards.set(d.dashboard_id, d);
    }
  }

  /** An active dashboard (permissions need it to exist). */
  has(id: string): boolean {
    return this.dashboards.get(id)?.lifecycle_state === 'ACTIVE';
  }

  create(query: Record<string, string>, body: Record<string, unknown>): unknown {
    const b = parseBody(DashboardBody, body);
    if (!b.display_name) throw invalid('display_name is required');
    const parent = canonical(b.parent_path ?? '/');
    if (!this.deps.directoryExists(parent)) throw new DatabricksErrorResponse(404, 'RESOURCE_DOES_NOT_EXIST', `Path (${parent}) doesn't exist.`);
    const path = `${parent === '/' ? '' : parent}/${b.display_name}.lvdash.json`;
    if ([...this.dashboards.values()].some((d) => d.lifecycle_state === 'ACTIVE' && d.path === path))
      throw new DatabricksErrorResponse(400, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists.`);
    const at = this.now().toISOString();
    const record: DashboardRecord = {
      dashboard_id: randomBytes(16).toString('hex'),
      display_name: b.display_name,
      parent_path: parent,
      path,
      ...(b.warehouse_id ? { warehouse_id: b.warehouse_id } : {}),
      serialized_dashboard: serialize(b.serialized_dashboard, query['dataset_catalog'], query['dataset_schema']),
      etag: this.newEtag(),
      create_time: at,
      update_time: at,
      lifecycle_state: 'ACTIVE',
    };
    this.dashboards.set(record.dashboard_id, record);
    this.save();
    return this.view(record);
  }

  get(id: string): unknown {
    return this.view(this.find(id));
  }

  list(): unknown {
    const active = [...this.dashboards.values()].filter((d) => d.lifecycle_state === 'ACTIVE');
    return active.length > 0 ? { dashboards: active.map((d) => this.summary(d)) } : {};
  }

  /** PATCH: the fields given replace the draft's; a stale etag is refused, as Databricks does. */
  update(id: string, query: Record<string, string>, body: Record<string, unknown>): unknown {
    const record = this.active(id);
    const b = parseBody(DashboardBody, body);
    if (b.etag && b.etag !== record.etag)
      throw new DatabricksErrorResponse(409, 'ABORTED', `The dashboard ${id} has been modified since etag ${b.etag}.`);
    if (b.display_name) {
      record.display_name = b.display_name;
      record.path = `${record.parent_path === '/' ? '' : record.parent_path}/${b.display_name}.lvdash.json`;
    }
    if (b.warehouse_id !== undefined) record.warehouse_id = b.warehouse_id;
    if (b.serialized_dashboard !== undefined || query['dataset_catalog'] || query['dataset_schema'])
      record.serialized_dashboard = serialize(
        b.serialized_dashboard ?? record.serialized_dashboard,
        query['dataset_catalog'],
        query['dataset_schema'],
      );
    record.etag = this.newEtag();
    record.update_time = this.now().toISOString();
    this.save();
    return this.view(record);
  }

  /** DELETE moves the dashboard to the trash: get still answers (lifecycle_state TRASHED), updates are refused. */
  trash(id: string): unknown {
    const record = this.active(id);
    record.lifecycle_state = 'TRASHED';
    delete record.published;
    record.update_time = this.now().toISOString();
    this.save();
    return {};
  }

  publish(id: string, body: Record<string, unknown>): unknown {
    const record = this.active(id);
    const b = parseBody(PublishBody, body);
    const warehouse = b.warehouse_id || record.warehouse_id;
    record.published = {
      display_name: record.display_name,
      ...(warehouse ? { warehouse_id: warehouse } : {}),
      embed_credentials: b.embed_credentials ?? true,
      revision_create_time: this.now().toISOString(),
    };
    this.save();
    return record.published;
  }

  getPublished(id: string): unknown {
    const record = this.active(id);
    if (!record.published) throw new DatabricksErrorResponse(404, 'RESOURCE_DOES_NOT_EXIST', `Dashboard ${id} is not published.`);
    return record.published;
  }

  unpublish(id: string): unknown {
    const record = this.active(id);
    if (!record.published) throw new DatabricksErrorResponse(404, 'RESOURCE_DOES_NOT_EXIST', `Dashboard ${id} is not published.`);
    delete record.published;
    this.save();
    return {};
  }

  private find(id: string): DashboardRecord {
    const record = this.dashboards.get(id);
    if (!record) throw new DatabricksErrorResponse(404, 'RESOURCE_DOES_NOT_EXIST', `Unable to find dashboard ${id}.`);
    return record;
  }

  private active(id: string): DashboardRecord {
    const record = this.find(id);
    if (record.lifecycle_state !== 'ACTIVE') throw new DatabricksErrorResponse(404, 'RESOURCE_DOES_NOT_EXIST', `Dashboard ${id} is in the trash.`);
    return record;
  }

  private summary(d: DashboardRecord): Record<string, unknown> {
    return {
      dashboard_id: d.dashboard_id,
      display_name: d.display_name,
      ...(d.warehouse_id ? { warehouse_id: d.warehouse_id } : {}),
      create_time: d.create_time,
      update_time: d.update_time,
      lifecycle_state: d.lifecycle_state,
    };
  }

  private view(d: DashboardRecord): unknown {
    return { ...this.summary(d), parent_path: d.parent_path, path: d.path, etag: d.etag, serialized_dashboard: d.serialized_dashboard };
  }

  private newEtag(): string {
    return randomBytes(8).toString('hex');
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, dashboards: [...this.dashboards.values()] }));
    renameSync(tmp, this.file);
  }
}

/** Routes of the Lakeview API over the store; undefined for a path it does not serve. */
export function lakeviewRoutes(
  store: LakeviewStore,
  req: { method: string; path: string; query: Record<string, string>; body: Record<string, unknown> },
): unknown {
  const base = '/api/2.0/lakeview/dashboards';
  if (req.path === base) {
    if (req.method === 'POST') return store.create(req.query, req.body);
    if (req.method === 'GET') return store.list();
    throw new DatabricksErrorResponse(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported for ${base}`);
  }
  const m = /^\/api\/2\.0\/lakeview\/dashboards\/([^/]+)(\/published)?$/.exec(req.path);
  if (!m) return undefined;
  const id = decodeURIComponent(m[1]!);
  const published = m[2] !== undefined;
  const handlers: Record<string, () => unknown> = published
    ? { POST: () => store.publish(id, req.body), GET: () => store.getPublished(id), DELETE: () => store.unpublish(id) }
    : { GET: () => store.get(id), PATCH: () => store.update(id, req.query, req.body), DELETE: () => store.trash(id) };
  const handler = handlers[req.method];
  if (!handler) throw new DatabricksErrorResponse(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported for ${req.path}`);
  return handler();
}
