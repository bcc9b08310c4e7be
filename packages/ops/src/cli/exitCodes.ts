/** Exit codes of `orbiter` (documented in docs/monitoring.md); scripts branch on these. */
export const ExitCode = {
  ok: 0,
  /** The operation failed (a run ended failed with --wait, an ingestion stream failed, an unexpected error). */
  failure: 1,
  /** Bad command line or invalid request (HTTP 400/422). */
  usage: 2,
  /** Run (or message) not found (HTTP 404). */
  notFound: 3,
  /** Conflict: e.g. cancelling a finished run (HTTP 409/412). */
  conflict: 4,
  /** Missing or wrong function key / token (HTTP 401/403). */
  unauthorized: 5,
  /** The API or a peer is unreachable or throttled (connection refused, HTTP 429/5xx), or --timeout elapsed. */
  unavailable: 6,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a specific exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}

export function exitCodeForStatus(status: number): ExitCodeValue {
  if (status === 400 || status === 422) return ExitCode.usage;
  if (status === 401 || status === 403) return ExitCode.unauthorized;
  if (status === 404) return ExitCode.notFound;
  if (status === 409 || status === 412) return ExitCode.conflict;
  if (status === 429 || status >= 500) return ExitCode.unavailable;
  return ExitCode.failure;
}
