import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { silentLogger, type Logger } from 'orbiter/shared/logger';
import type { BlobSource } from './blobSource';
import { loadBundle, type LoadBundleOptions } from './bundle';
import { ApiError } from './api/errors';
import { findRoute, jobsRoutes } from './api/routes';
import { JobsEngine } from './engine';
import type { Clock } from './jobs/clock';
import type { JobNotification } from './jobs/executor';
import { WebhookNotifier } from './notifier';
import { findRepoRoot } from './repoRoot';
import { PythonNotebookRunner, type NotebookRunner } from './notebookRunner';

export interface DatabricksEmulatorOptions {
  /** 0 (default) = an ephemeral port. */
  port?: number;
  host?: string;
  /** Path of the bundle's databricks.yml whose jobs the workspace starts with; unset: an empty workspace. */
  bundlePath?: string;
  /** Bundle target (default: the target marked default: true, else the first). */
  target?: string;
  /** Bundle variable overrides (like `--var`). */
  variables?: LoadBundleOptions['variables'];
  /** Scratch space for task logs/results and the optional state file. */
  workDir: string;
  /** Local lake directory given to notebooks as lake_root. */
  lakeRoot: string;
  /** Where input blobs are fetched from before a run (Azurite); without it inputs must already be in lakeRoot. */
  blobSource?: BlobSource;
  /** Default: PythonNotebookRunner over <repoRoot>/.venv and runner/run_notebook.py. */
  runner?: NotebookRunner;
  repoRoot?: string;
  /** Persist runs to <workDir>/databricks-emulator-state.json (default false). */
  persist?: boolean;
  /** Notebook tasks running at once across all jobs (each real task starts a Spark JVM). Default unlimited. */
  maxParallelTasks?: number;
  /**
   * Where jobs' webhook_notifications go (every destination id maps to this URL), e.g. the Orbiter completion
   * webhook of the local functions host. Unset: no notifications.
   */
  notificationWebhookUrl?: string;
  /** The one personal access token the workspace accepts (default LOCAL_TOKEN); any other is a 401. */
  token?: string;
  /** Time for runs and the scheduler (tests pass a ManualClock); default the system clock. */
  clock?: Clock;
  /** First restart delay of a failed continuous run (default 10 s, doubling, at most 5 min). */
  continuousBackoffMs?: number;
  logger?: Logger;
}

/** The token a local workspace accepts unless told otherwise (printed as DATABRICKS_TOKEN by the CLI). */
export const LOCAL_TOKEN = 'local-emulator-token';

export interface DatabricksEmulator {
  /** e.g. http://127.0.0.1:43121 — use as DATABRICKS_HOST. */
  url: string;
  /** Resolves when no run is executing. */
  whenIdle(): Promise<void>;
  /** Cancels running work, stops listening. */
  close(): Promise<void>;
}

const MAX_BODY = 10 * 1024 * 1024;

/** Databricks answers a missing credential and a wrong one alike with 401. */
function authenticate(header: string | undefined, token: string): void {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) throw new ApiError(401, 'UNAUTHENTICATED', 'Credential was not sent or was of an unsupported type for this API.');
  if (m[1] !== token) throw new ApiError(401, 'UNAUTHENTICATED', 'Invalid access token.');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request - failed to parse');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ApiError(400, 'MALFORMED_REQUEST', 'Request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Starts a local Azure Databricks Jobs API 2.2 emulator serving the bundle's jobs. */
export async function startDatabricksEmulator(options: DatabricksEmulatorOptions): Promise<DatabricksEmulator> {
  const logger = options.logger ?? silentLogger;
  const bundle = options.bundlePath
    ? loadBundle(options.bundlePath, {
        ...(options.target !== undefined ? { target: options.target } : {}),
        ...(options.variables ? { variables: options.variables } : {}),
      })
    : { jobs: [], target: undefined };
  const repoRoot = options.repoRoot ?? findRepoRoot();
  let url = '';
  const notifier = new WebhookNotifier(options.notificationWebhookUrl ?? '', logger);
  const engine = new JobsEngine({
    jobs: bundle.jobs,
    runner: options.runner ?? new PythonNotebookRunner({ repoRoot }),
    lakeRoot: resolve(options.lakeRoot),
    workDir: resolve(options.workDir),
    ...(options.blobSource ? { blobSource: options.blobSource } : {}),
    persist: options.persist ?? false,
    ...(options.maxParallelTasks !== undefined ? { maxParallelTasks: options.maxParallelTasks } : {}),
    ...(options.notificationWebhookUrl ? { notify: (n: JobNotification) => notifier.send(n) } : {}),
    baseUrl: () => url,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.continuousBackoffMs !== undefined ? { continuousBackoffMs: options.continuousBackoffMs } : {}),
    logger,
  });

  const routes = jobsRoutes(engine);
  const token = options.token ?? LOCAL_TOKEN;

  const server = createServer((req, res) => {
    void (async () => {
      try {
        const parsed = new URL(req.url ?? '/', 'http://localhost');
        // 2.1 shares the shapes we serve; accept it too so older tooling works.
        const path = parsed.pathname.replace(/^\/api\/2\.1\//, '/api/2.2/').replace(/\/+$/, '');
        if (path.startsWith('/api/')) authenticate(req.headers.authorization, token);
        const route = findRoute(routes, req.method ?? 'GET', path);
        const query: Record<string, unknown> = Object.fromEntries(parsed.searchParams.entries());
        const body = req.method === 'POST' ? await readBody(req) : {};
        send(res, 200, route.handle(query, body));
      } catch (err) {
        if (err instanceof ApiError) send(res, err.status, { error_code: err.errorCode, message: err.message });
        else {
          logger.error('emulator request failed', { err: String(err) });
          send(res, 500, { error_code: 'INTERNAL_ERROR', message: (err as Error).message });
        }
      }
    })();
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  url = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  logger.info('Databricks emulator listening', { url, jobs: bundle.jobs.map((j) => j.settings.name), target: bundle.target });

  let closing: Promise<void> | undefined;
  return {
    url,
    whenIdle: () => engine.whenIdle(),
    close: () =>
      (closing ??= (async () => {
        await engine.close();
        await notifier.drain();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      })()),
  };
}

export const defaultWorkDir = (repoRoot: string): string => join(repoRoot, '.orbiter', 'databricks');
export const defaultLakeRoot = (repoRoot: string): string => join(repoRoot, '.orbiter', 'lake');
