import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';

/** A local stand-in for a tenant's signing keys: a JWKS over HTTP and real RS256 tokens signed with its key. */
export interface LocalEntra {
  tenantId: string;
  audience: string;
  issuer: string;
  jwksUri: string;
  /** A token as Entra issues it for the API; override any claim (or sign with another key) to forge one. */
  token(o?: {
    roles?: unknown;
    aud?: string;
    iss?: string;
    exp?: number;
    tid?: string;
    kid?: string;
    oid?: string;
    signer?: KeyLike;
  }): Promise<string>;
  stop(): Promise<void>;
}

export async function startLocalEntra(): Promise<LocalEntra> {
  const tenantId = '11111111-2222-4333-8444-555555555555';
  const audience = 'api://orbiter-runs';
  const issuer = `https://login.microsoftonline.com/${tenantId}/v2.0`;
  const pair = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discovery/v2.0/keys`;
  return {
    tenantId,
    audience,
    issuer,
    jwksUri,
    token(o = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ roles: o.roles ?? ['Runs.Request'], tid: o.tid ?? tenantId, oid: o.oid ?? 'caller-oid' })
        .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? 'k1' })
        .setIssuer(o.iss ?? issuer)
        .setAudience(o.aud ?? audience)
        .setSubject('caller-sub')
        .setIssuedAt(now - 10)
        .setExpirationTime(o.exp ?? now + 600)
        .sign(o.signer ?? pair.privateKey);
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
