import { DatabricksErrorResponse } from './api/errors';
import type { JobStore } from './jobStore';
import { lakeviewRoutes, type LakeviewStore } from './lakeviewStore';
import type { PermissionStore } from './permissionStore';
import type { WorkspaceStore } from './workspaceStore';

/**
 * The workspace-side REST API the Databricks CLI needs for `bundle deploy/summary/run/destroy`: SCIM Me, the
 * Workspace API (get-status, mkdirs, list, delete, export, import), workspace-files (import-file, read), Permissions,
 * Jobs create/reset/update/delete/get/list, Lakeview dashboards (../lakeviewStore.ts), and host metadata
 * (/.well-known/databricks-config).
 */

export interface WorkspaceIdentity {
  userName: string;
  userId: string;
  workspaceId: string;
  groups: string[];
}

export interface RawRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Buffer;
  /** The URL clients use for this workspace (for host metadata). */
  baseUrl: string;
}

export interface RawResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Sent as application/octet-stream instead of JSON. */
  raw?: boolean;
}

export interface WorkspaceApiDeps {
  workspace: WorkspaceStore;
  permissions: PermissionStore;
  jobs: JobStore;
  lakeview: LakeviewStore;
  identity: WorkspaceIdentity;
}

const MAX_EXPORT = 10 * 1024 * 1024;

function json(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DatabricksErrorResponse(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request - failed to parse');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new DatabricksErrorResponse(400, 'MALFORMED_REQUEST', 'Request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

const bool = (v: unknown): boolean => v === true || v === 'true';

function decodePathParam(encoded: string): string {
  try {
    return `/${decodeURIComponent(encoded).replace(/^\/+/, '')}`;
  } catch {
    throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', `Invalid path encoding: ${encoded}`);
  }
}

function base64Content(value: unknown): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/=\r\n]*$/.test(value))
    throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', 'content must be base64');
  return Buffer.from(value, 'base64');
}

/** Returns a handler for the routes it serves, or undefined for the rest (the Jobs run API). */
export function workspaceRoutes(deps: WorkspaceApiDeps): (req: RawRequest) => RawResponse | undefined {
  const { workspace, permissions, jobs, lakeview, identity } = deps;
  const ok = (body: unknown): RawResponse => ({ status: 200, body });

  const exact: Record<string, (req: RawRequest) => RawResponse> = {
    'GET /.well-known/databricks-config': (req) =>
      ok({
        workspace_id: identity.workspaceId,
        host_type: 'WORKSPACE_HOST',
        cloud: 'Azure',
        oidc_endpoint: `${req.baseUrl}/oidc`,
        token_federation_default_oidc_audiences: [`${req.baseUrl}/oidc/v1/token`],
      }),
    'GET /api/2.0/preview/scim/v2/Me': () => ({
      status: 200,
      headers: { 'X-Databricks-Org-Id': identity.workspaceId },
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        id: identity.userId,
        userName: identity.userName,
        displayName: identity.userName,
        active: true,
        emails: [{ value: identity.userName, type: 'work', primary: true }],
        groups: identity.groups.map((g, i) => ({ display: g, value: String(1000 + i), type: 'direct', $ref: `Groups/${1000 + i}` })),
      },
    }),
    'GET /api/2.0/workspace/get-status': (req) => {
      const info = workspace.getStatus(req.query['path']);
      const exportInfo = bool(req.query['return_export_info']) && info.object_type === 'NOTEBOOK' ? { repos_export_format: 'SOURCE' } : {};
      return ok({ ...info, ...exportInfo });
    },
    'GET /api/2.0/workspace/list': (req) => {
      const objects = workspace.list(req.query['path']);
      return ok(objects.length > 0 ? { objects } : {});
    },
    'POST /api/2.0/workspace/mkdirs': (req) => {
      workspace.mkdirs(json(req.body)['path']);
      return ok({});
    },
    'POST /api/2.0/workspace/delete': (req) => {
      const b = json(req.body);
      workspace.delete(b['path'], bool(b['recursive']));
      return ok({});
    },
    'GET /api/2.0/workspace/export': (req) => {
      const format = (req.query['format'] ?? 'SOURCE').toUpperCase();
      if (!['SOURCE', 'AUTO', 'RAW'].includes(format))
        throw new DatabricksErrorResponse(
          400,
          'INVALID_PARAMETER_VALUE',
          `Export format ${format} is not supported by the local workspace (SOURCE, AUTO, RAW).`,
        );
      const content = workspace.read(req.query['path']);
      if (content.length > MAX_EXPORT)
        throw new DatabricksErrorResponse(400, 'MAX_NOTEBOOK_SIZE_EXCEEDED', 'File size exceeds the 10 MB export limit.');
      if (bool(req.query['direct_download'])) return { status: 200, body: content, raw: true };
      const info = workspace.getStatus(req.query['path']);
      return ok({ content: content.toString('base64'), file_type: info.object_type === 'NOTEBOOK' ? 'py' : '' });
    },
    'POST /api/2.0/workspace/import': (req) => {
      const b = json(req.body);
      workspace.importObject(b['path'], base64Content(b['content']), {
        ...(typeof b['format'] === 'string' ? { format: b['format'] } : {}),
        ...(typeof b['language'] === 'string' ? { language: b['language'] } : {}),
        overwrite: bool(b['overwrite']),
      });
      return ok({});
    },
    // CLI usage telemetry is meant for Databricks: accepted (so the CLI does not retry) and not kept.
    'POST /telemetry-ext': (req) => {
      const logs = json(req.body)['protoLogs'];
      return ok({ errors: [], numProtoSuccess: Array.isArray(logs) ? logs.length : 0 });
    },
    'POST /api/2.2/jobs/create': (req) => ok(jobs.create(json(req.body))),
    'POST /api/2.2/jobs/reset': (req) => ok(jobs.reset(json(req.body))),
    'POST /api/2.2/jobs/update': (req) => ok(jobs.update(json(req.body))),
    'POST /api/2.2/jobs/delete': (req) => ok(jobs.delete(json(req.body))),
    'GET /api/2.2/jobs/get': (req) => ok(jobs.get(req.query)),
    'GET /api/2.2/jobs/list': (req) => ok(jobs.list(req.query)),
  };

  return (req) => {
    // 2.1 and 2.2 share these shapes.
    const path = req.path.replace(/^\/api\/2\.1\/jobs\//, '/api/2.2/jobs/');
    const handler = exact[`${req.method} ${path}`];
    if (handler) return handler(req);
    if (Object.keys(exact).some((k) => k.endsWith(` ${path}`)))
      throw new DatabricksErrorResponse(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported for ${path}`);

    const importFile = /^\/api\/2\.0\/workspace-files\/import-file\/(.+)$/.exec(path);
    if (importFile) {
      if (req.method !== 'POST')
        throw new DatabricksErrorResponse(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported for workspace-files/import-file`);
      workspace.importFile(decodePathParam(importFile[1]!), req.body, bool(req.query['overwrite']));
      return ok({});
    }
    const file = /^\/api\/2\.0\/workspace-files\/(.+)$/.exec(path);
    if (file) {
      if (req.method !== 'GET') throw new DatabricksErrorResponse(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported for workspace-files`);
      return { status: 200, body: workspace.read(decodePathParam(file[1]!)), raw: true };
    }
    if (path.startsWith('/api/2.0/lakeview/')) {
      const answer = lakeviewRoutes(lakeview, { method: req.method, path, query: req.query, body: json(req.body) });
      if (answer !== undefined) return ok(answer);
    }
    const perms = /^\/api\/2\.0\/permissions\/([a-z-]+)\/([^/]+)$/.exec(path);
    if (perms) {
      const [, type, id] = perms as unknown as [string, string, string];
      if (req.method === 'GET') return ok(permissions.get(type, id));
      if (req.method === 'PUT') return ok(permissions.set(type, id, json(req.body), 'replace'));
      if (req.method === 'PATCH') return ok(permissions.set(type, id, json(req.body), 'add'));
      throw new DatabricksErrorResponse(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported for permissions`);
    }
    return undefined;
  };
}
