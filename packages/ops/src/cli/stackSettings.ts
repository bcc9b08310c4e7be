import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The settings a running local stack uses (its ports, connection strings, replay URLs), published in its data folder
 * so the CLI finds the stack without a hand-written local.settings.json. `npm start` writes it once its peers are up
 * and removes it when it stops; a file left by a killed stack names a pid that is gone and is ignored.
 */
export const STACK_SETTINGS_FILE = 'local-stack.settings.json';

/** The keys published: what the CLI's commands need, never the whole process environment. */
export const publishedSettingKeys = [
  'AzureWebJobsStorage',
  'OrbiterLake',
  'ServiceBusConnection',
  'NASA_MODE',
  'NASA_API_BASE_URL',
  'EPIC_API_BASE_URL',
  'EONET_API_BASE_URL',
  'JPL_SSD_API_BASE_URL',
  'METEORITES_API_URL',
  'CMR_API_BASE_URL',
  'INGEST_START_DATE',
  'INGEST_START_DATES',
  'INGEST_MAX_WINDOWS_PER_RUN',
  'INGEST_SOURCES',
  'DATABRICKS_HOST',
  'DATABRICKS_AUTH',
  'DATABRICKS_TOKEN',
  'ORBITER_TELEMETRY_DIR',
  'ORBITER_FUNCTION_KEY',
  'ORBITER_API_URL',
  'ORBITER_DASHBOARD_URL',
] as const;

const stackSettingsSchema = z.object({
  IsEncrypted: z.literal(false),
  /** In local.settings.json's shape, so the same keys mean the same thing. */
  Values: z.record(z.string(), z.string()),
  pid: z.number().int().positive(),
  startedAt: z.string(),
});
export type StackSettingsFile = z.infer<typeof stackSettingsSchema>;

export const stackSettingsPath = (dataDir: string): string => join(dataDir, STACK_SETTINGS_FILE);

/** Writes the file atomically (a reader never sees half of it), readable by this user only: it holds local keys. */
export function writeStackSettings(dataDir: string, settings: Record<string, string | undefined>, pid = process.pid, now = new Date()): string {
  const Values: Record<string, string> = {};
  for (const k of publishedSettingKeys) {
    const v = settings[k];
    if (v !== undefined && v !== '') Values[k] = v;
  }
  const file = stackSettingsPath(dataDir);
  const tmp = `${file}.${pid}.tmp`;
  const body: StackSettingsFile = { IsEncrypted: false, Values, pid, startedAt: now.toISOString() };
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

/** Removes the file if this process wrote it (a newer stack's file stays). */
export function removeStackSettings(dataDir: string, pid = process.pid): void {
  const file = stackSettingsPath(dataDir);
  const cur = readFile(file);
  if (cur.kind === 'ok' && cur.settings.pid === pid) rmSync(file, { force: true });
}

export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export type StackSettingsRead =
  | { kind: 'none' }
  | { kind: 'ok'; settings: StackSettingsFile; file: string }
  | { kind: 'stale'; pid: number; file: string }
  | { kind: 'invalid'; file: string; reason: string };

function readFile(file: string): StackSettingsRead {
  if (!existsSync(file)) return { kind: 'none' };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { kind: 'invalid', file, reason: (err as Error).message };
  }
  const parsed = stackSettingsSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', file, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  return { kind: 'ok', settings: parsed.data, file };
}

/** The running stack's settings file in `dataDir`, or why there is none to use. */
export function readStackSettings(dataDir: string, alive: (pid: number) => boolean = pidAlive): StackSettingsRead {
  const file = stackSettingsPath(dataDir);
  const r = readFile(file);
  if (r.kind === 'ok' && !alive(r.settings.pid)) return { kind: 'stale', pid: r.settings.pid, file };
  return r;
}
