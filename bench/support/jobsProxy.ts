import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy in front of the Databricks emulator: records every Jobs API call (to check the client's rate budget from
 * the outside) and can answer some run-now calls with 429 + Retry-After, as a throttled workspace does.
 */
export interface JobsProxy {
  url: string;
  /** Arrival times (ms) of run-now calls that reached the proxy, 429s included. */
  runNowAt: number[];
  runsGetAt: number[];
  throttled: number;
  close(): Promise<void>;
}

export async function startJobsProxy(target: string, opts: { throttleRunNow?: (n: number) => boolean } = {}): Promise<JobsProxy> {
  const t = new URL(target);
  const p: JobsProxy = { url: '', runNowAt: [], runsGetAt: [], throttled: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path.endsWith('/jobs/run-now')) {
      p.runNowAt.push(Date.now());
      if (opts.throttleRunNow?.(p.runNowAt.length)) {
        p.throttled++;
        req.resume();
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'Too many requests (injected by the bench)' }));
        return;
      }
    } else if (path.endsWith('/jobs/runs/get')) p.runsGetAt.push(Date.now());
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => {
      res.writeHead(502).end(String(err));
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  p.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  p.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return p;
}

/** The most calls seen in any sliding window of `windowMs`. */
export function maxInWindow(times: number[], windowMs = 1000): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i]! - s[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
