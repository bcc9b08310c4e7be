import type { HttpRequest } from '@azure/functions';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ApiError } from './problem';

export type ApiAuthMode = 'function-key' | 'entra';
export const ApiRoles = { read: 'Runs.Read', request: 'Runs.Request', operate: 'Runs.Operate' } as const;
export type ApiRole = (typeof ApiRoles)[keyof typeof ApiRoles];

/** Who called: the token's subject (entra) or the function key's holder (function-key mode has one caller). */
export interface Caller {
  id: string;
  roles: ReadonlySet<string>;
}

/** Checks a bearer token; throws ApiError 401 when it is not a valid token for this API. */
export interface TokenVerifier {
  verify(token: string): Promise<Caller>;
}

export type ApiAuth = { mode: 'function-key' } | { mode: 'entra'; verifier: TokenVerifier };

export interface EntraVerifierOptions {
  tenantId: string;
  /** The API's application ID URI or client id: the token's `aud`. */
  audience: string;
  /** Defaults to the tenant's v2.0 signing keys; a local JWKS in tests. */
  jwksUri?: string;
  /** Defaults to the tenant's v2.0 and v1.0 issuers. */
  issuer?: string;
}

const unauthenticated = (why: string) =>
  new ApiError(401, 'unauthenticated', `sign in with Microsoft Entra ID (${why})`, [], { 'www-authenticate': 'Bearer error="invalid_token"' });

/**
 * Validates Entra access tokens in the app (issuer, audience, RS256 signature against the tenant's JWKS, expiry and
 * not-before), so the API fails closed even if App Service authentication were switched off: x-ms-client-principal
 * and its role_typ are never read.
 */
export function createEntraVerifier(o: EntraVerifierOptions, getKey?: JWTVerifyGetKey): TokenVerifier {
  const jwks = getKey ?? createRemoteJWKSet(new URL(o.jwksUri ?? `https://login.microsoftonline.com/${o.tenantId}/discovery/v2.0/keys`));
  const issuers = o.issuer ? [o.issuer] : [`https://login.microsoftonline.com/${o.tenantId}/v2.0`, `https://sts.windows.net/${o.tenantId}/`];
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: issuers,
          audience: o.audience,
          algorithms: ['RS256'],
          requiredClaims: ['exp', 'iat', 'sub'],
          clockTolerance: 60,
        });
        if (payload['tid'] !== undefined && payload['tid'] !== o.tenantId) throw unauthenticated('token from another tenant');
        const roles = Array.isArray(payload['roles']) ? payload['roles'].filter((r): r is string => typeof r === 'string') : [];
        const oid = typeof payload['oid'] === 'string' ? payload['oid'] : payload.sub!;
        return { id: `entra:${oid}`, roles: new Set(roles) };
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (err instanceof joseErrors.JOSEError) throw unauthenticated(`token rejected: ${err.code}`);
        throw err;
      }
    },
  };
}

const FUNCTION_KEY_CALLER: Caller = { id: 'function-key', roles: new Set(Object.values(ApiRoles)) };

/**
 * Authorises a Run API call. function-key: the host (Azure or local) has already checked the key, and the key's
 * holder is the one caller with every role. entra: the bearer token is verified here; no token → 401, a token
 * without one of `roles` → 403.
 */
export async function authorize(request: Pick<HttpRequest, 'headers'>, auth: ApiAuth, roles: readonly ApiRole[]): Promise<Caller> {
  if (auth.mode === 'function-key') return FUNCTION_KEY_CALLER;
  const header = request.headers.get('authorization') ?? '';
  const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header.trim());
  if (!m || header.length > 16 * 1024) throw unauthenticated('no bearer token');
  const caller = await auth.verifier.verify(m[1]!);
  if (!roles.some((r) => caller.roles.has(r))) throw new ApiError(403, 'forbidden', `requires app role ${roles.join(' or ')}`);
  return caller;
}
