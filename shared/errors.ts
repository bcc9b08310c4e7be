/**
 * Orbiter's typed errors. Callers branch on `code` (a documented union) and `retryable`, never on message text.
 */
export type OrbiterErrorCode =
  | 'ConfigInvalid'
  | 'UpstreamHttpError'
  | 'UpstreamThrottled'
  | 'UpstreamTimeout'
  | 'UpstreamShapeChanged'
  | 'UpstreamAuthFailed'
  | 'LakeWriteFailed'
  | 'WatermarkConflict'
  | 'InvalidArgument'
  | 'BodyTooLarge'
  | 'NotFound'
  | 'JobsApiThrottled'
  | 'JobsApiError'
  | 'JobNotFound'
  | 'ManifestInvalid'
  | 'MessageInvalid'
  | 'RunAlreadyExists'
  | 'RunConflict'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Internal';

export interface OrbiterErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Extra structured context for logs (never secrets). */
  details?: Record<string, unknown>;
}

export class OrbiterError extends Error {
  override readonly name: string = 'OrbiterError';
  readonly code: OrbiterErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: OrbiterErrorCode, message: string, options: OrbiterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

export function isOrbiterError(err: unknown, code?: OrbiterErrorCode): err is OrbiterError {
  return err instanceof Error && err.name === 'OrbiterError' && (code === undefined || (err as OrbiterError).code === code);
}

/** Normalises anything thrown into an Error, so logs and rethrows always carry a message and stack. */
export function ensureError(err: unknown): Error {
  if (err instanceof Error) return err;
  let text: string;
  try {
    text = typeof err === 'string' ? err : JSON.stringify(err);
  } catch {
    text = String(err);
  }
  return new Error(`Non-error thrown: ${text}`);
}

/** An upstream payload that failed parsing or its schema; carries the (redacted) bytes so they can be quarantined. */
export class UpstreamShapeError extends OrbiterError {
  readonly rawBody: Buffer;
  constructor(message: string, rawBody: Buffer, details: Record<string, unknown> = {}, cause?: unknown) {
    super('UpstreamShapeChanged', message, { details, cause });
    this.rawBody = rawBody;
  }
}
