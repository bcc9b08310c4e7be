import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { isOwnHost } from 'orbiter/shared/http/hostCheck';
import { silentLogger, type Logger } from 'orbiter/shared/logger';
import type { BlobSource } from './blobSource';
import { DatabricksErrorResponse } from './api/errors';
import { clustersRoutes, findRoute, jobsRoutes, notServed } from './api/routes';
import { ClusterNotebookRunner } from './clusters/clusterRunner';
import { JobsEngine } from './engine';
import type { Clock } from './jobs/clock';
import type { JobNotification } from './jobs/executor';
import { JobStore } from './jobStore';
import { WebhookNotifier } from './notifier';
import { LakeviewStore } from './lakeviewStore';
import { PermissionStore } from './permissionStore';
import { findRepoRoot } from './repoRoot';
import { PythonNotebookRunner, type NotebookRunner } from './notebookRunner';
import { WheelInstaller } from './wheelInstaller';
import { workspaceRoutes, type RawResponse } from './workspaceApi';
import { WorkspaceNotebookRunner } from './workspaceRunner';
import { WorkspaceStore } from './workspaceStore';
import { readTaskLog, taskLogPath } from './api/taskLogs';
import { runPageResponse, runPageRoute, type RunPageRoute } from './runPage';

export interface DatabricksEmulatorOptions {
  /** 0 (default) = an ephemeral port. */
  port?: number;
  host?: string;
  /** The bearer token clients must send (default: a random one, see `token` of the result); others get 401. */
  token?: string;
  /** The workspace user every token belongs to (SCIM Me userName; creator of jobs and runs). */
  userName?: string;
  /** Workspace id (X-Databricks-Org-Id of SCIM Me, host metadata). */
  workspaceId?: string;
  /** Scratch space for task logs/results, and the workspace state (files, jobs, permissions, runs). */
  workDir: string;
  /** Local lake directory given to notebooks as lake_root. */
  lakeRoot: string;
  /** Where input blobs are fetched from before a run (Azurite); without it inputs must already be in lakeRoot. */
  blobSource?: BlobSource;
  /**
   * Runs a notebook task once its workspace notebook is resolved to the deployed file and its wheels installed
   * (PYTHONPATH in the request's env). Default: PythonNotebookRunner over <repoRoot>/.venv and runner/run_notebook.py.
   */
  runner?: NotebookRunner;
  /** Interpreter wheels are installed for (default <repoRoot>/.venv/bin/python, the runner's). */
  python?: string;
  /** Installed job wheels by content hash (default <repoRoot>/.orbiter/databricks-libraries, shared by emulators). */
  libraryCacheDir?: string;
  repoRoot?: string;
  /**
   * Keep the workspace (deployed files, jobs, permissions) and runs across restarts, in <workDir> (default false:
   * each start is an empty workspace).
   */
  persist?: boolean;
  /** Notebook tasks running at once across all jobs (each real task starts a Spark JVM). Default unlimited. */
  maxParallelTasks?: number;
  /**
   * Where jobs' webhook_notifications go (every destination id maps to this URL), e.g. the Orbiter completion
   * webhook of the local functions host. Unset: no notifications.
   */
  notificationWebhookUrl?: string;
  /**
   * Warm clusters (local only): a job cluster stays up after its run and serves the next run with the same cluster
   * spec until idle this many minutes (the spec's autotermination_minutes wins). Unset: clusters end with their run,
   * as on Databricks — what CI and tests want, where isolation between runs matters more than speed.
   */
  warmClusterMinutes?: number;
  /**
   * Start the clusters' shared Spark driver right away instead of with the first cluster task, as a Databricks
   * instance pool's idle instance spares a new cluster its VM start (the local stack with warm clusters: the driver
   * starts while the bundle deploys and the first ingestion runs). It stops with the emulator at the latest.
   */
  readyDriver?: boolean;
  /** false: every notebook task gets a Spark JVM of its own, job clusters ignored (benchmark baseline). Default true. */
  jobClusters?: boolean;
  /** Time for runs and the scheduler (tests pass a ManualClock); default the system clock. */
  clock?: Clock;
  /** First restart delay of a failed continuous run (default 10 s, doubling, at most 5 min). */
  continuousBackoffMs?: number;
  logger?: Logger;
}

export interface DatabricksEmulator {
  /** e.g. http://127.0.0.1:43121 — use as DATABRICKS_HOST. */
  url: string;
  /** The bearer token the workspace accepts — use as DATABRICKS_TOKEN. */
  token: string;
  /** The local lake directory notebooks get as lake_root. */
  lakeRoot: string;
  /** Resolves when no run is executing. */
  whenIdle(): Promise<void>;
  /** Cancels running work, stops listening. */
  close(): Promise<void>;
}

const MAX_BODY = 10 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendRaw(res: ServerResponse, out: RawResponse): void {
  if (!out.raw) return send(res, out.status, out.body, out.headers);
  const bytes = out.body as Buffer;
  res.writeHead(out.status, { ...out.headers, 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length });
  res.end(bytes);
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new DatabricksErrorResponse(400, 'INVALID_PARAMETER_VALUE', 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DatabricksErrorResponse(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request - failed to parse');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new DatabricksErrorResponse(400, 'MALFORMED_REQUEST', 'Request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Starts a local Azure Databricks workspace: Jobs API 2.2 and the Workspace, Permissions and SCIM calls of the CLI. */
export async function startDatabricksEmulator(options: DatabricksEmulatorOptions): Promise<DatabricksEmulator> {
  const logger = options.logger ?? silentLogger;
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const workDir = resolve(options.workDir);
  const stateDir = join(workDir, 'workspace');
  // Without persistence every start is an empty workspace (the CLI then deploys from scratch).
  if (!(options.persist ?? false)) rmSync(stateDir, { recursive: true, force: true });
  const token = options.token ?? `dapi-local-${randomBytes(16).toString('hex')}`;
  const identity = {
    userName: options.userName ?? 'local-emulator@orbiter.local',
    userId: '1000000000000001',
    workspaceId: options.workspaceId ?? '1000000000000001',
    groups: ['users', 'admins'],
  };
  const workspace = new WorkspaceStore(join(stateDir, 'files'));
  const jobs = new JobStore(stateDir, identity.userName);
  const lakeview = new LakeviewStore(stateDir, { directoryExists: (path) => workspace.find(path)?.object_type === 'DIRECTORY' });
  const permissions = new PermissionStore(stateDir, {
    exists: (type, id) =>
      type === 'jobs'
        ? /^\d+$/.test(id) && jobs.has(Number(id))
        : type === 'dashboards'
          ? lakeview.has(id)
          : /^\d+$/.test(id) && objectOfType(workspace, type, Number(id)),
    owner: (type) => (type === 'jobs' ? identity.userName : undefined),
  });
  jobs.onDelete((id) => permissions.forget('jobs', String(id)));
  const serveWorkspace = workspaceRoutes({ workspace, permissions, jobs, lakeview, identity });
  const python = options.python ?? join(repoRoot, '.venv', 'bin', 'python');
  const wheels = new WheelInstaller({ python, cacheDir: options.libraryCacheDir ?? join(repoRoot, '.orbiter', 'databricks-libraries'), workspace });
  let url = '';
  const notifier = new WebhookNotifier(options.notificationWebhookUrl ?? '', logger);
  const notebooks = new WorkspaceNotebookRunner(
    options.runner ??
      new ClusterNotebookRunner({ repoRoot, python, logDir: join(workDir, 'clusters'), perTask: new PythonNotebookRunner({ repoRoot, python }) }),
    workspace,
    wheels,
  );
  const engine = new JobsEngine({
    jobs: jobs.views,
    newJobId: () => jobs.reserveId(),
    readNotebook: (path) => workspace.read(path).toString('utf8'),
    runner: notebooks,
    ...(options.jobClusters === false ? { jobClusters: false } : {}),
    ...(options.warmClusterMinutes !== undefined ? { warmClusters: { autoterminationMinutes: options.warmClusterMinutes } } : {}),
    userName: identity.userName,
    lakeRoot: resolve(options.lakeRoot),
    workDir,
    ...(options.blobSource ? { blobSource: options.blobSource } : {}),
    persist: options.persist ?? false,
    ...(options.maxParallelTasks !== undefined ? { maxParallelTasks: options.maxParallelTasks } : {}),
    ...(options.notificationWebhookUrl ? { notify: (n: JobNotification) => notifier.send(n) } : {}),
    baseUrl: () => url,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.continuousBackoffMs !== undefined ? { continuousBackoffMs: options.continuousBackoffMs } : {}),
    logger,
  });

  if (options.readyDriver && options.jobClusters !== false) void notebooks.prepare();
  jobs.onChange((id) => engine.jobsChanged(id));
  const routes = { ...jobsRoutes(engine), ...clustersRoutes(engine) };

  const expected = Buffer.from(`Bearer ${token}`);
  const authorised = (header: string | undefined): boolean => {
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const server = createServer((req, res) => {
    void (async () => {
      try {
        const parsed = new URL(req.url ?? '/', 'http://localhost');
        const method = req.method ?? 'GET';
        // DNS rebinding: only this server's own (loopback or bound) names are served.
        const port = (server.address() as AddressInfo | null)?.port ?? 0;
        if (!isOwnHost(req.headers.host, port, options.host))
          throw new DatabricksErrorResponse(421, 'MISDIRECTED_REQUEST', 'Host is not this workspace.');
        // 2.1 shares the shapes we serve; accept it too so older tooling works.
        const path = parsed.pathname.replace(/^\/api\/2\.1\/jobs\//, '/api/2.2/jobs/').replace(/\/+$/, '');
        const query: Record<string, string> = Object.fromEntries(parsed.searchParams.entries());
        // Run pages are HTML for a browser, which cannot send the API token: loopback Host only, read-only.
        const pageRoute = method === 'GET' || method === 'HEAD' ? runPageRoute(path) : undefined;
        if (pageRoute) return sendPage(res, req.headers.host, pageRoute);
        // Host metadata is public on Databricks (clients read it before they authenticate).
        if (path !== '/.well-known/databricks-config') {
          if (!req.headers.authorization)
            throw new DatabricksErrorResponse(401, 'UNAUTHENTICATED', 'Credential was not sent or was of an unsupported type for this API.');
          if (!authorised(req.headers.authorization)) throw new DatabricksErrorResponse(401, 'UNAUTHENTICATED', 'Invalid access token.');
        }
        const route = findRoute(routes, method, path);
        if (route) {
          const body = method === 'POST' ? parseBody(await readRaw(req)) : {};
          return send(res, 200, route.handle(query, body));
        }
        const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readRaw(req);
        const out = serveWorkspace({ method, path, query, body, baseUrl: url });
        if (!out) throw notServed(method, parsed.pathname);
        sendRaw(res, out);
      } catch (err) {
        if (err instanceof DatabricksErrorResponse) send(res, err.status, { error_code: err.errorCode, message: err.message });
        else {
          logger.error('emulator request failed', { err: String(err) });
          send(res, 500, { error_code: 'INTERNAL_ERROR', message: (err as Error).message });
        }
      }
    })();
  });

  const sendPage = (res: ServerResponse, host: string | undefined, route: RunPageRoute): void => {
    const port = Number(new URL(url).port);
    const out = isOwnHost(host, port, options.host)
      ? runPageResponse(route, {
          record: (id) => engine.runs.record(id),
          recent: (n) => engine.runs.recent(n),
          taskLog: (run, task) => readTaskLog(taskLogPath(workDir, run.run_id, task.run_id, task.task_key))?.logs,
          now: () => Date.now(),
        })
      : { status: 421, contentType: 'text/plain; charset=utf-8', body: 'Misdirected request: this page answers loopback host names only.' };
    res.writeHead(out.status, {
      'Content-Type': out.contentType,
      'Content-Length': Buffer.byteLength(out.body),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
    });
    res.end(out.body);
  };

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  url = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  logger.info('Databricks emulator listening', { url, jobs: [...jobs.views.values()].map((j) => j.settings.name) });

  let closing: Promise<void> | undefined;
  return {
    url,
    token,
    lakeRoot: resolve(options.lakeRoot),
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

function objectOfType(workspace: WorkspaceStore, type: string, id: number): boolean {
  const found = workspace.findById(id);
  const wanted = { directories: 'DIRECTORY', notebooks: 'NOTEBOOK', files: 'FILE' }[type];
  return found !== undefined && found.object_type === wanted;
}
