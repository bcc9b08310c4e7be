import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { portAnswers, waitForPort } from './ports';

export interface AzuriteHandle {
  connectionString: string;
  blobEndpoint: string;
  reused: boolean;
  stop(): Promise<void>;
}

/** Azurite's documented well-known development account (not a secret). */
const account = 'devstoreaccount1';
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteConnectionString(blobPort: number, queuePort: number, tablePort: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${accountKey};` +
    `BlobEndpoint=http://127.0.0.1:${blobPort}/${account};` +
    `QueueEndpoint=http://127.0.0.1:${queuePort}/${account};` +
    `TableEndpoint=http://127.0.0.1:${tablePort}/${account};`
  );
}

/** Starts Azurite from node_modules (or reuses one already answering on the blob port). */
export async function startAzurite(opts: {
  repoRoot: string;
  dataDir: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  onLog?: (line: string) => void;
}): Promise<AzuriteHandle> {
  const connectionString = azuriteConnectionString(opts.blobPort, opts.queuePort, opts.tablePort);
  const blobEndpoint = `http://127.0.0.1:${opts.blobPort}/${account}`;
  if ((await portAnswers(opts.blobPort)) && (await portAnswers(opts.tablePort))) {
    return { connectionString, blobEndpoint, reused: true, stop: () => Promise.resolve() };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const bin = join(opts.repoRoot, 'node_modules', 'azurite', 'dist', 'src', 'azurite.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      bin,
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--location',
      opts.dataDir,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(opts.blobPort),
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      String(opts.queuePort),
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(opts.tablePort),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => opts.onLog?.(d.toString().trim()));
  child.stderr?.on('data', (d: Buffer) => opts.onLog?.(d.toString().trim()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      // Generous: a restart reloads its data folder, which on a busy 2-core machine can take well over 30 s; a crash
      // is caught at once by the exit race below, so only a slow start waits this long.
      Promise.all([waitForPort(opts.blobPort, 'Azurite blob', 180_000), waitForPort(opts.tablePort, 'Azurite table', 180_000)]),
      exited.then(() => {
        throw new Error('Azurite exited during start (is another process holding its ports?)');
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    connectionString,
    blobEndpoint,
    reused: false,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      // Pipes keep the parent's event loop alive after the child is gone.
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
}
