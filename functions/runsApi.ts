import type { ApiAuthMode } from '../shared/api/auth';
import type { RunApiDeps } from '../shared/api/runs';
import type { HttpFunction } from './definition';

/** What the Run API's triggers are built from. */
export interface RunApiTriggerDeps {
  readonly apiAuthMode: ApiAuthMode;
  runApi(): Promise<RunApiDeps>;
}

/**
 * Function keys guard the API unless App Service authentication (Entra ID) does: then the functions are anonymous
 * to the host and the handlers check the caller's app roles. Decided at registration, like any trigger option.
 */
export const runApiAuthLevel = (mode: ApiAuthMode): HttpFunction['authLevel'] => (mode === 'entra' ? 'anonymous' : 'function');
