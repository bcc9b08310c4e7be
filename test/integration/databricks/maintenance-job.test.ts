import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDatabricksEmulator, type DatabricksEmulator } from '@orbiter/databricks-emulator/emulator';
import { type CliResult, type DatabricksCli, localForce, runCli, setupDatabricksCli } from '@orbiter/local-stack/bundleDeploy';

/**
 * The bundle's table-maintenance job, deployed by the official CLI and run by the local workspace on real Spark + Delta:
 * two bronze runs append two commits to the fireball table, then maintenance (OPTIMIZE, VACUUM, statistics)
 * runs over it and reports per table.
 */

jest.setTimeout(1_200_000);

const REPO = join(__dirname, '..', '..', '..');
const BUNDLE_ROOT = join(REPO, 'notebooks');
const output = (r: CliResult): string => `${r.stdout}${r.stderr}`;

interface TableReport {
  zone: string;
  table: string;
  files_before: number;
  files_after: number;
  files_on_disk_before: number;
  error: string | null;
}

describe('the table-maintenance job on the local workspace', () => {
  let cli: DatabricksCli;
  let dir: string;
  let lake: string;
  let emulator: DatabricksEmulator;
  const cliIn = (args: string[]): Promise<CliResult> => runCli(cli, args, { cwd: BUNDLE_ROOT, host: emulator.url, token: emulator.token });

  /** Lands one fireball capture in the raw zone under its content-addressed name, as the ingest function does. */
  const landFireball = (rows: unknown[][]): void => {
    const fixture = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'nasa', 'fireball.json'), 'utf8')) as { fields: string[] };
    const body = Buffer.from(
      JSON.stringify({ signature: { version: '1.2', source: 'NASA/JPL Fireball Data API' }, count: rows.length, fields: fixture.fields, data: rows }),
    );
    const sha = createHash('sha256').update(body).digest('hex').slice(0, 16);
    const folder = join(lake, 'raw', 'fireball', 'fireball', '1988', '01', '01');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `1988-01-01_2026-05-13.${sha}.json`), body);
  };

  beforeAll(async () => {
    cli = await setupDatabricksCli(REPO);
    dir = mkdtempSync(join(tmpdir(), 'dbx-maint-'));
    lake = join(dir, 'lake');
    emulator = await startDatabricksEmulator({ workDir: join(dir, 'work'), lakeRoot: lake, repoRoot: REPO, maxParallelTasks: 1 });
    const deploy = await cliIn(['bundle', 'deploy', '-t', 'local', ...localForce('local')]); // a new workspace: see localForce
    expect({ code: deploy.code, output: output(deploy) }).toEqual({ code: 0, output: expect.stringContaining('Deployment complete!') });
  });
  afterAll(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs over the tables that event-driven runs appended to and reports each table', async () => {
    const fixture = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'nasa', 'fireball.json'), 'utf8')) as { data: unknown[][] };
    // Two landings, two bronze runs: two appends, two data files in bronze.
    for (const [i, rows] of [fixture.data.slice(0, 2), fixture.data.slice(2)].entries()) {
      landFireball(rows);
      const run = await cliIn([
        'bundle',
        'run',
        'orbiter_fireball_pipeline',
        '-t',
        'local',
        '--only',
        'bronze',
        '--params',
        `orbiter_run_id=maint-${i}`,
      ]);
      expect({ code: run.code, output: output(run) }).toEqual({ code: 0, output: expect.stringContaining('TERMINATED SUCCESS') });
    }

    const maint = await cliIn(['bundle', 'run', 'orbiter_table_maintenance', '-t', 'local', '--params', 'source=fireball,orbiter_run_id=maint-m']);
    expect({ code: maint.code, output: output(maint) }).toEqual({ code: 0, output: expect.stringContaining('TERMINATED SUCCESS') });
    const exit = JSON.parse(maint.stdout.trim().split('\n').pop()!) as { stage: string; totals: Record<string, number>; tables: TableReport[] };
    expect(exit.stage).toBe('table_maintenance');
    const bronze = exit.tables.find((t) => t.zone === 'bronze' && t.table === 'fireball');
    // Both appends reached the table (files on disk), and the table properties' auto-compaction already keeps its
    // active files few; OPTIMIZE then leaves at most the ten per table.
    expect(bronze).toMatchObject({ error: null });
    expect(bronze!.files_on_disk_before).toBeGreaterThanOrEqual(2);
    expect(bronze!.files_before).toBeLessThanOrEqual(2);
    expect(bronze!.files_after).toBeLessThanOrEqual(Math.min(bronze!.files_before, 10));
    expect(exit.totals).toMatchObject({ tables: exit.tables.length, failed: 0 });
  });
});
