import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { ApiError } from './problem';

export type ApiAuthMode = 'function-key' | 'entra';
export const ApiRoles = { read: 'Runs.Read', request: 'Runs.Request' } as const;
export type ApiRole = (typeof ApiRoles)[keyof typeof ApiRoles];

/** App Service authentication's x-ms-client-principal: base64 JSON of the signed-in caller's claims. */
const clientPrincipal = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(500),
});
export type ClientPrincipal = z.infer<typeof clientPrincipal>;

const ROLE_CLAIM_TYPES = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];

export function parseClientPrincipal(header: string | null): ClientPrincipal | undefined {
  if (!header || header.length > 16 * 1024) return undefined;
  try {
    const json: unknown = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    const p = clientPrincipal.safeParse(json);
    return p.success ? p.data : undefined;
  } catch {
    return undefined;
  }
}

export function rolesOf(p: ClientPrincipal): Set<string> {
  const types = new Set([...ROLE_CLAIM_TYPES, ...(p.role_typ ? [p.role_typ] : [])]);
  return new Set(p.claims.filter((c) => types.has(c.typ)).map((c) => c.val));
}

/**
 * Authorises a Run API call. function-key: the host (Azure or local) has already checked the key. entra: App
 * Service authentication validated the token and passes the caller as x-ms-client-principal (it strips that header
 * from incoming requests, so it cannot be forged while authentication is enabled); the caller needs one of `roles`.
 * No principal → 401, principal without the role → 403.
 */
export function authorize(request: Pick<HttpRequest, 'headers'>, mode: ApiAuthMode, roles: readonly ApiRole[]): void {
  if (mode === 'function-key') return;
  const principal = parseClientPrincipal(request.headers.get('x-ms-client-principal'));
  if (!principal) {
    throw new ApiError(401, 'unauthenticated', 'sign in with Microsoft Entra ID (no valid client principal)', [], { 'www-authenticate': 'Bearer' });
  }
  const have = rolesOf(principal);
  if (!roles.some((r) => have.has(r))) throw new ApiError(403, 'forbidden', `requires app role ${roles.join(' or ')}`);
}
