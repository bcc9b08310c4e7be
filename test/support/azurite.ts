import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAzurite, type AzuriteHandle } from '../../local/stack/azurite';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** A private Azurite per test file: its own ports and a temp data folder, removed afterwards. */
export async function startTestAzurite(): Promise<AzuriteHandle & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'orbiter-azurite-'));
  const [blobPort, queuePort, tablePort] = [await freePort(), await freePort(), await freePort()];
  const h = await startAzurite({ repoRoot: resolve(__dirname, '..', '..'), dataDir, blobPort, queuePort, tablePort });
  return {
    ...h,
    dataDir,
    stop: async () => {
      await h.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
