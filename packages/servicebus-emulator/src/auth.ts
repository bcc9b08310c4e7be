/**
 * Shared Access Signature checks as Service Bus makes them on `$cbs` put-token: the token's signature is
 * HMAC-SHA256 over `<url-encoded resource URI>\n<expiry>` with the named policy's key, it has not expired, its
 * resource URI covers the entity being authorised, and the policy grants the rights (Manage, Send, Listen) each link
 * and management operation needs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Right = 'Manage' | 'Send' | 'Listen';

export interface SasPolicy {
  name: string;
  key: string;
  rights: Right[];
}

/** Microsoft's emulator prints this policy and key; keeping them lets one connection string serve both emulators. */
export const DEFAULT_POLICY: SasPolicy = { name: 'RootManageSharedAccessKey', key: 'SAS_KEY_VALUE', rights: ['Manage', 'Send', 'Listen'] };

export class TokenError extends Error {
  constructor(
    readonly status: 401 | 400,
    message: string,
  ) {
    super(message);
  }
}

export interface Grant {
  /** Canonical resource the token names: lower-case `host[:port]/path` without scheme or trailing slash. */
  resource: string;
  rights: Set<Right>;
  expiresAt: number;
}

/** `sb://Host:5672/Queue/` → `host:5672/queue` (scheme-less, lower-case, no trailing slash) for prefix checks. */
export function canonicalResource(uri: string): string {
  return uri
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

function parseToken(token: string): Record<string, string> {
  const text = token.trim();
  if (!text.startsWith('SharedAccessSignature ')) throw new TokenError(401, 'InvalidSignature: the token is not a SharedAccessSignature.');
  const fields: Record<string, string> = {};
  for (const part of text.slice('SharedAccessSignature '.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return fields;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function sign(key: string, resource: string, expiry: string): Buffer {
  return createHmac('sha256', key).update(`${resource}\n${expiry}`, 'utf8').digest();
}

/**
 * Verifies a SAS token and returns what it grants. SDKs differ in how they URL-encode the resource (upper/lower-case
 * escapes, `+` or `%20`), so the signature is accepted over the resource exactly as it appears in the token or as
 * encodeURIComponent writes it.
 */
export function verifySasToken(token: string, policies: SasPolicy[], nowMs: number): Grant {
  const f = parseToken(token);
  const { sr, sig, se, skn } = f;
  if (!sr || !sig || !se || !skn) throw new TokenError(401, 'InvalidSignature: the token must carry sr, sig, se and skn.');
  const policy = policies.find((p) => p.name === safeDecode(skn));
  if (!policy) throw new TokenError(401, `InvalidSignature: no policy named '${safeDecode(skn)}' is configured on this namespace.`);
  const expiry = Number(se);
  if (!Number.isFinite(expiry)) throw new TokenError(401, 'InvalidSignature: se must be the expiry in seconds since 1970.');
  if (expiry * 1000 <= nowMs) throw new TokenError(401, `ExpiredToken: the token expired at ${new Date(expiry * 1000).toISOString()}.`);
  const given = Buffer.from(safeDecode(sig), 'base64');
  const resource = safeDecode(sr);
  const candidates = [sr, encodeURIComponent(resource), encodeURIComponent(resource).toLowerCase()];
  const ok = candidates.some((c) => {
    const expected = sign(policy.key, c, se);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!ok) throw new TokenError(401, `InvalidSignature: the token has an invalid signature for policy '${policy.name}'.`);
  return { resource: canonicalResource(resource), rights: new Set(policy.rights), expiresAt: expiry * 1000 };
}

/** True when a token for `grantResource` may be used for `audience` (same resource or a parent of it). */
export function covers(grantResource: string, audience: string): boolean {
  const a = canonicalResource(audience);
  return a === grantResource || a.startsWith(`${grantResource}/`);
}

/** The claims a connection has presented, per audience, checked when a link attaches or a request arrives. */
export class ConnectionClaims {
  private readonly grants: Grant[] = [];

  add(grant: Grant): void {
    this.grants.push(grant);
  }

  /** True when some unexpired grant covers `entityPath` (host-independent: the host was checked at put-token) with `right`. */
  allows(entityPath: string, right: Right, nowMs: number): boolean {
    const path = entityPath.replace(/^\/+|\/+$/g, '').toLowerCase();
    return this.grants.some((g) => {
      if (g.expiresAt <= nowMs || !(g.rights.has(right) || g.rights.has('Manage'))) return false;
      const slash = g.resource.indexOf('/');
      const grantPath = slash < 0 ? '' : g.resource.slice(slash + 1);
      return grantPath === '' || path === grantPath || path.startsWith(`${grantPath}/`);
    });
  }
}
