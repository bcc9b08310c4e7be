import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAzurite, type AzuriteHandle } from '@orbiter/local-stack/azurite';
import { freePort } from '@orbiter/local-stack/ports';

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
