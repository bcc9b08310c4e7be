import { connect, createServer } from 'node:net';

/** True when something accepts TCP connections on host:port. */
export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Polls until the port answers (never a fixed sleep). */
export async function waitForPort(port: number, what: string, timeoutMs = 30_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portAnswers(port, host)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start listening on ${host}:${port} within ${timeoutMs} ms`);
}

/** A port free right now on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Ports for a whole private stack (tests, benchmarks): free ones for the host and Azurite, any for the broker. */
export async function freeStackPorts(): Promise<{
  hostPort: number;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  serviceBusPort: number;
}> {
  return { hostPort: await freePort(), blobPort: await freePort(), queuePort: await freePort(), tablePort: await freePort(), serviceBusPort: 0 };
}
