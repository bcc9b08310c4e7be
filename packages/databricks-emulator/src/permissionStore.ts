import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DatabricksErrorResponse } from './api/errors';

/**
 * Permissions API (GET/PUT/PATCH /api/2.0/permissions/{type}/{id}) over jobs, dashboards and workspace objects: direct grants are
 * stored per object in <dir>/permissions.json; the admins group's inherited CAN_MANAGE is reported as Databricks does.
 */

type Principal = 'user_name' | 'group_name' | 'service_principal_name';
const PRINCIPALS: Principal[] = ['user_name', 'group_name', 'service_principal_name'];

interface Grant {
  principal: Principal;
  name: string;
  level: string;
}

export interface PermissionObjectKinds {
  /** Whether the object exists (404 otherwise); `owner` is a job's creator, who stays IS_OWNER unless replaced. */
  exists(type: string, id: string): boolean;
  owner?(type: string, id: string): string | undefined;
}

const OBJECT_TYPES: Record<string, { singular: string; levels: string[] }> = {
  jobs: { singular: 'job', levels: ['IS_OWNER', 'CAN_MANAGE', 'CAN_MANAGE_RUN', 'CAN_VIEW'] },
  directories: { singular: 'directory', levels: ['CAN_MANAGE', 'CAN_EDIT', 'CAN_RUN', 'CAN_READ'] },
  notebooks: { singular: 'notebook', levels: ['CAN_MANAGE', 'CAN_EDIT', 'CAN_RUN', 'CAN_READ'] },
  files: { singular: 'file', levels: ['CAN_MANAGE', 'CAN_EDIT', 'CAN_RUN', 'CAN_READ'] },
  dashboards: { singular: 'dashboard', levels: ['CAN_MANAGE', 'CAN_EDIT', 'CAN_RUN', 'CAN_READ'] },
};

const AclEntry = z.looseObject({
  user_name: z.string().min(1).optional(),
  group_name: z.string().min(1).optional(),
  service_principal_name: z.string().min(1).optional(),
  permission_level: z.string(),
});
const Body = z.looseObject({ access_control_list: z.array(AclEntry).default([]) });
const Stored = z.record(
  z.string(),
  z.array(z.object({ principal: z.enum(['user_name', 'group_name', 'service_principal_name']), name: z.string(), level: z.string() })),
);

const invalid = (message: string): DatabricksErrorResponse => new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', message);

export class PermissionStore {
  private readonly grants = new Map<string, Grant[]>();
  private readonly path: string;

  constructor(
    dir: string,
    private readonly objects: PermissionObjectKinds,
  ) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'permissions.json');
    if (existsSync(this.path)) {
      const parsed = Stored.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (!parsed.success) throw new Error(`${this.path} is not a permissions file: ${parsed.error.message}`);
      for (const [k, v] of Object.entries(parsed.data)) this.grants.set(k, v);
    }
  }

  get(type: string, id: string): unknown {
    this.check(type, id);
    return this.view(type, id);
  }

  /** PUT replaces the object's direct grants; PATCH adds to them (a principal's level is replaced). */
  set(type: string, id: string, body: Record<string, unknown>, mode: 'replace' | 'add'): unknown {
    const kind = this.check(type, id);
    const parsed = Body.safeParse(body);
    if (!parsed.success) throw invalid(`Invalid access_control_list: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
    const incoming: Grant[] = parsed.data.access_control_list.map((e, i) => {
      const named = PRINCIPALS.filter((p) => e[p] !== undefined);
      if (named.length !== 1) throw invalid(`access_control_list[${i}] must name exactly one of user_name, group_name, service_principal_name`);
      if (!kind.levels.includes(e.permission_level))
        throw invalid(`Permission level ${e.permission_level} is not supported for ${kind.singular} objects; allowed: ${kind.levels.join(', ')}`);
      return { principal: named[0]!, name: e[named[0]!]!, level: e.permission_level };
    });
    const key = `${type}/${id}`;
    const base = mode === 'replace' ? [] : (this.grants.get(key) ?? []);
    const merged = [...base.filter((g) => !incoming.some((n) => n.principal === g.principal && n.name === g.name)), ...incoming];
    const owners = merged.filter((g) => g.level === 'IS_OWNER');
    if (owners.length > 1) throw invalid(`A ${kind.singular} can have only one owner (got ${owners.map((o) => o.name).join(', ')}).`);
    if (type === 'jobs' && owners.length === 0) {
      // A job always has an owner: without a new one, the current one stays.
      const current = (this.grants.get(key) ?? []).find((g) => g.level === 'IS_OWNER') ?? this.defaultOwner(type, id);
      if (current && !merged.some((g) => g.principal === current.principal && g.name === current.name)) merged.unshift(current);
    }
    this.grants.set(key, merged);
    this.save();
    return this.view(type, id);
  }

  forget(type: string, id: string): void {
    if (this.grants.delete(`${type}/${id}`)) this.save();
  }

  private check(type: string, id: string): { singular: string; levels: string[] } {
    const kind = OBJECT_TYPES[type];
    if (!kind)
      throw new DatabricksErrorResponse(
        404,
        'ENDPOINT_NOT_FOUND',
        `The local workspace serves permissions of ${Object.keys(OBJECT_TYPES).join(', ')} (not ${type}).`,
      );
    if (!this.objects.exists(type, id)) throw new DatabricksErrorResponse(404, 'RESOURCE_DOES_NOT_EXIST', `${kind.singular} ${id} does not exist.`);
    return kind;
  }

  private defaultOwner(type: string, id: string): Grant | undefined {
    const owner = this.objects.owner?.(type, id);
    return owner ? { principal: 'user_name', name: owner, level: 'IS_OWNER' } : undefined;
  }

  private view(type: string, id: string): unknown {
    const kind = OBJECT_TYPES[type]!;
    const direct =
      this.grants.get(`${type}/${id}`) ?? (type === 'jobs' ? [this.defaultOwner(type, id)].filter((g): g is Grant => g !== undefined) : []);
    const root = type === 'jobs' ? '/jobs/' : type === 'dashboards' ? '/dashboards/' : '/directories/';
    return {
      object_id: `/${type}/${id}`,
      object_type: kind.singular,
      access_control_list: [
        ...direct.map((g) => ({ [g.principal]: g.name, all_permissions: [{ permission_level: g.level, inherited: false }] })),
        { group_name: 'admins', all_permissions: [{ permission_level: 'CAN_MANAGE', inherited: true, inherited_from_object: [root] }] },
      ],
    };
  }

  private save(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.grants)));
    renameSync(tmp, this.path);
  }
}
