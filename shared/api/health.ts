import type { HealthResponse } from './schemas';

export type HealthProbe = (signal: AbortSignal) => Promise<void>;

/**
 * Runs each probe with a timeout, in parallel. The answer names each check with ok/fail/skipped and a coarse reason
 * only: the endpoint is anonymous, so no host names, messages or settings leak.
 */
export async function runHealthChecks(
  probes: Record<string, HealthProbe | undefined>,
  version: string,
  timeoutMs = 5000,
): Promise<{ status: 200 | 503; body: HealthResponse }> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]): Promise<[string, HealthResponse['checks'][string]]> => {
      if (!probe) return [name, { status: 'skipped', durationMs: 0, reason: 'not-configured' }];
      const started = Date.now();
      const ac = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => {
          ac.abort();
          resolve('timeout');
        }, timeoutMs);
      });
      try {
        const r = await Promise.race([probe(ac.signal).then(() => 'ok' as const), timeout]);
        const durationMs = Date.now() - started;
        return [name, r === 'ok' ? { status: 'ok', durationMs } : { status: 'fail', durationMs, reason: 'timeout' }];
      } catch {
        return [name, { status: 'fail', durationMs: Date.now() - started, reason: 'error' }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  const ok = entries.every(([, c]) => c.status !== 'fail');
  return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', version, checks } };
}
