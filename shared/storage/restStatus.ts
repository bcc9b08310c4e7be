/**
 * The HTTP status of an Azure SDK RestError, or undefined. Checked by name rather than `instanceof` so that modules
 * loaded at function-app import do not have to load an SDK just for its error class (cold start).
 */
export function restStatus(err: unknown): number | undefined {
  const e = err as { name?: unknown; statusCode?: unknown } | null;
  return e !== null && typeof e === 'object' && e.name === 'RestError' && typeof e.statusCode === 'number' ? e.statusCode : undefined;
}
