import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { artifactLock } from '@orbiter/databricks-emulator/localDeploy';

const exec = promisify(execFile);

export interface BundleDeployOptions {
  repoRoot: string;
  /** The workspace to deploy into (the local Databricks emulator). */
  host: string;
  token: string;
  /** Bundle target (default local). */
  target?: string;
  /** Extra environment (e.g. BUNDLE_VAR_*). */
  env?: Record<string, string | undefined>;
}

export interface DatabricksCli {
  /** The official CLI binary (built once per machine by scripts/setup-databricks-cli.sh). */
  binary: string;
  /** bin folder of the Python environment the wheel is built in (scripts/setup-bundle-python.sh). */
  pythonBin: string;
}

const lastLine = (text: string): string => text.trim().split('\n').pop() ?? '';

/** Builds (once per machine) the official Databricks CLI and the bundle's build environment; returns their paths. */
export async function setupDatabricksCli(repoRoot: string): Promise<DatabricksCli> {
  const [cli, python] = await Promise.all([
    exec('bash', [join(repoRoot, 'scripts', 'setup-databricks-cli.sh')], { maxBuffer: 16 * 1024 * 1024 }),
    exec('bash', [join(repoRoot, 'scripts', 'setup-bundle-python.sh')], { maxBuffer: 16 * 1024 * 1024 }),
  ]);
  return { binary: lastLine(cli.stdout), pythonBin: lastLine(python.stdout) };
}

/** The environment the CLI runs with: only the given workspace and token, never a profile of the user's. */
export function cliEnv(cli: DatabricksCli, o: Pick<BundleDeployOptions, 'host' | 'token' | 'env'>): Record<string, string | undefined> {
  return {
    ...process.env,
    ...o.env,
    PATH: `${cli.pythonBin}:${process.env['PATH'] ?? ''}`,
    DATABRICKS_HOST: o.host,
    DATABRICKS_TOKEN: o.token,
    DATABRICKS_AUTH_TYPE: 'pat',
    DATABRICKS_CONFIG_FILE: '/dev/null',
    DATABRICKS_CONFIG_PROFILE: undefined,
    DATABRICKS_CLI_DO_NOT_TRACK: 'true',
  };
}

/**
 * `databricks bundle deploy -t <target>` from notebooks/ (the bundle root) with the official CLI. Throws with the
 * CLI's own output when it fails. Returns how long the deploy took.
 */
export async function deployBundle(o: BundleDeployOptions, cli?: DatabricksCli): Promise<{ ms: number; output: string }> {
  const tools = cli ?? (await setupDatabricksCli(o.repoRoot));
  const started = Date.now();
  try {
    // flock: one build of notebooks/dist at a time on this machine (parallel stacks, tests' quick deploys).
    const bundleRoot = join(o.repoRoot, 'notebooks');
    const target = o.target ?? 'local';
    const deploy = [tools.binary, 'bundle', 'deploy', '-t', target, ...localForce(target)];
    const { stdout, stderr } = await exec(
      'flock',
      [artifactLock(bundleRoot), ...(target === 'local' ? withoutSyncSnapshots(bundleRoot, target, deploy) : deploy)],
      {
        cwd: bundleRoot,
        env: cliEnv(tools, o),
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return { ms: Date.now() - started, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`databricks bundle deploy -t ${o.target ?? 'local'} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`, { cause: err });
  }
}

/**
 * The local workspace can start empty (`--reset`, a test's emulator) while notebooks/.databricks still holds the
 * deployment state of an earlier one; the CLI then refuses to deploy over a dashboard that state names and the
 * workspace lacks ("failed to get dashboard", its remote-modification check). `--force` skips that check (and git
 * branch validation), and the deploy recreates what is missing, as it does for jobs. Local target only.
 */
export function localForce(target: string): string[] {
  return target === 'local' ? ['--force'] : [];
}

/**
 * The CLI uploads only files that its sync snapshot (notebooks/.databricks/bundle/<target>/sync-snapshots, one per
 * host and remote path) does not record as uploaded already. A local workspace is a new emulator on a random port, so
 * when a port comes round again, an earlier workspace's snapshot made the deploy succeed while uploading nothing (seen
 * in a benchmark: every task then failed with "Unable to access the notebook"). A local deploy therefore starts
 * without snapshots and uploads the bundle's files whole (a few hundred KiB). Runs under the artifact lock, so a
 * concurrent deploy never loses its snapshot mid-sync.
 */
export function withoutSyncSnapshots(bundleRoot: string, target: string, command: string[]): string[] {
  const snapshots = join(bundleRoot, '.databricks', 'bundle', target, 'sync-snapshots');
  // sh, not bash: bash started with a socket as stdin (Node's pipes) reads ~/.bashrc, which may put another python3
  // first on PATH (pyenv) and break the wheel build.
  return ['/bin/sh', '-c', 'rm -rf -- "$1" && shift && exec "$@"', 'deploy', snapshots, ...command];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the official CLI with `args` in `cwd` against the given workspace; resolves with its exit code and output. */
export async function runCli(
  cli: DatabricksCli,
  args: string[],
  o: Pick<BundleDeployOptions, 'host' | 'token' | 'env'> & { cwd: string; timeoutMs?: number },
): Promise<CliResult> {
  try {
    // A deploy builds the bundle's artifacts: serialised with other builds of the same folder (see deployBundle).
    const command = args[0] === 'bundle' && args[1] === 'deploy' ? ['flock', artifactLock(o.cwd), cli.binary] : [cli.binary];
    const { stdout, stderr } = await exec(command[0]!, [...command.slice(1), ...args], {
      cwd: o.cwd,
      env: cliEnv(cli, o),
      maxBuffer: 16 * 1024 * 1024,
      timeout: o.timeoutMs ?? 600_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}
