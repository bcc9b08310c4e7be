import type { ApiAuth, ApiAuthMode } from '../shared/api/auth';
import { OrbiterError } from '../shared/errors';
import type { RunApiDeps } from '../shared/api/runs';
import type { HttpFunction } from './definition';

/** What the Run API's triggers are built from. */
export interface RunApiTriggerDeps {
  readonly apiAuthMode: ApiAuthMode;
  /** The Entra token verifier (entra mode); required there. */
  apiAuth?(): ApiAuth;
  runApi(): Promise<RunApiDeps>;
}

/** How a call is authenticated; entra mode without a verifier fails closed (never falls back to no checks). */
export function apiAuthOf(deps: RunApiTriggerDeps): ApiAuth {
  if (deps.apiAuthMode === 'function-key') return { mode: 'function-key' };
  if (!deps.apiAuth) throw new OrbiterError('ConfigInvalid', 'API_AUTH_MODE=entra without a token verifier');
  return deps.apiAuth();
}

/**
 * Function keys guard the API unless App Service authentication (Entra ID) does: then the functions are anonymous
 * to the host and the handlers check the caller's app roles. Decided at registration, like any trigger option.
 */
export const runApiAuthLevel = (mode: ApiAuthMode): HttpFunction['authLevel'] => (mode === 'entra' ? 'anonymous' : 'function');
