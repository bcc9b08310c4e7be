import { OrbiterError, type OrbiterErrorCode } from '../errors';

/** What went wrong on the wire; `code` stays one of Orbiter's codes, `kind` refines it for logs and tests. */
export type DatabricksFailureKind =
  'throttled' | 'server' | 'timeout' | 'network' | 'malformed-response' | 'unexpected-response' | 'auth' | 'not-found' | 'bad-request' | 'aborted';

export interface DatabricksApiErrorInit {
  code: OrbiterErrorCode;
  kind: DatabricksFailureKind;
  message: string;
  retryable: boolean;
  operation: string;
  status?: number;
  /** Databricks' own `error_code`, e.g. INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST. */
  databricksErrorCode?: string;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A failed Jobs API call. `name` stays 'OrbiterError' so `isOrbiterError` matches; codes used:
 * JobsApiThrottled (429), JobsApiError (5xx, timeouts, resets, bad bodies, other 4xx), NotFound, Unauthorized, Forbidden.
 */
export class DatabricksApiError extends OrbiterError {
  readonly kind: DatabricksFailureKind;
  readonly operation: string;
  readonly status: number | undefined;
  readonly databricksErrorCode: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(init: DatabricksApiErrorInit) {
    super(init.code, init.message, {
      retryable: init.retryable,
      cause: init.cause,
      details: { operation: init.operation, kind: init.kind, status: init.status, databricksErrorCode: init.databricksErrorCode },
    });
    this.kind = init.kind;
    this.operation = init.operation;
    this.status = init.status;
    this.databricksErrorCode = init.databricksErrorCode;
    this.retryAfterMs = init.retryAfterMs;
  }
}

export function isDatabricksApiError(err: unknown): err is DatabricksApiError {
  return err instanceof DatabricksApiError;
}
