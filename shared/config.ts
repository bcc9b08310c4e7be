import { Cron } from 'croner';
import { z } from 'zod';
import { OrbiterError } from './errors';
import { Connections } from './names';

// Keys below are spelled out (not computed from names.ts) so their types stay literal; a unit test checks they match.
/**
 * The one schema over the environment. Names are the app-setting names in Azure and the `Values` keys of
 * local.settings.json. Locally connections are connection strings; in Azure they are identity-based
 * (`<Conn>__blobServiceUri`, `__fullyQualifiedNamespace`, `__credential`), so no secrets are needed.
 */
export const sourceIds = ['neows', 'donki', 'eonet', 'apod', 'epic', 'fireball', 'meteorites', 'cmr'] as const;
export type SourceId = (typeof sourceIds)[number];

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine((s) => {
    const t = Date.parse(`${s}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().startsWith(s);
  }, 'not a real calendar date');

const ncrontab = z.string().refine((expr) => {
  if (expr.trim().split(/\s+/).length !== 6) return false;
  try {
    new Cron(expr, { paused: true });
    return true;
  } catch {
    return false;
  }
}, 'expected a 6-field NCRONTAB expression (seconds first), e.g. "0 0 */6 * * *"');

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const sourceList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.union([z.literal('all'), z.enum(sourceIds)])).min(1, 'name at least one source or "all"'))
  .transform((list): SourceId[] => (list.includes('all') ? [...sourceIds] : [...new Set(list as SourceId[])]));

const intFromString = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `source=YYYY-MM-DD,…`: a first window start per source (a source's history may begin years before another's). */
const startDatesPerSource = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map((pair) => {
        const [source = '', date = ''] = pair.split('=').map((x) => x.trim());
        return [source, date] as const;
      }),
  )
  .pipe(z.array(z.tuple([z.enum(sourceIds), isoDate])))
  .transform((pairs): Partial<Record<SourceId, string>> => Object.fromEntries(pairs));

export const configSchema = z.object({
  OrbiterLake: z.string().min(1).optional().describe('Lake storage connection string (local/Azurite)'),
  OrbiterLake__blobServiceUri: httpUrl.optional().describe('Lake blob endpoint (Azure, identity-based)'),
  OrbiterLake__tableServiceUri: httpUrl.optional().describe('Table endpoint for watermarks and run records'),
  OrbiterLake__credential: z.literal('managedidentity').optional(),
  OrbiterLake__clientId: z.string().optional().describe('User-assigned identity client id'),
  ServiceBusConnection: z.string().min(1).optional().describe('Service Bus connection string (local emulator)'),
  ServiceBusConnection__fullyQualifiedNamespace: z.string().min(1).optional(),
  NASA_MODE: z.enum(['live', 'replay']).default('live').describe('replay: the local stack serves recorded responses'),
  NASA_API_KEY: z.string().min(1).default('DEMO_KEY').describe('api.nasa.gov key (Key Vault reference in Azure)'),
  NASA_API_BASE_URL: httpUrl.default('https://api.nasa.gov'),
  EPIC_API_BASE_URL: httpUrl.default('https://epic.gsfc.nasa.gov/api'),
  EONET_API_BASE_URL: httpUrl.default('https://eonet.gsfc.nasa.gov/api/v3'),
  JPL_SSD_API_BASE_URL: httpUrl.default('https://ssd-api.jpl.nasa.gov'),
  METEORITES_API_URL: httpUrl.default('https://data.nasa.gov/resource/gh4g-9sfh.json'),
  CMR_API_BASE_URL: httpUrl.default('https://cmr.earthdata.nasa.gov/search'),
  CMR_COLLECTION_SHORT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('MYD021KM'),
  CMR_PAGE_SIZE: intFromString(1, 2000).default(500),
  METEORITES_PAGE_SIZE: intFromString(1, 50_000).default(1000),
  INGEST_SCHEDULE: ncrontab.default('0 0 */6 * * *').describe('Timer schedule of the ingestion function'),
  INGEST_START_DATE: isoDate.optional().describe('First window start when a source has no watermark (default: 7 days ago)'),
  INGEST_START_DATES: startDatesPerSource
    .optional()
    .describe('source=YYYY-MM-DD,…: first window start per source with no watermark (wins over INGEST_START_DATE)'),
  INGEST_SOURCES: sourceList.default([...sourceIds]),
  // High enough for a history backfill in one cycle (the local stack replays EPIC and CMR day by day since 2019).
  INGEST_MAX_WINDOWS_PER_RUN: intFromString(1, 20_000).default(10).describe('Bounds one cycle; backlog continues next cycle'),
  HTTP_TIMEOUT_MS: intFromString(100, 600_000).default(30_000),
  HTTP_MAX_RETRIES: intFromString(0, 20).default(5),
  DATABRICKS_HOST: httpUrl.optional(),
  DATABRICKS_AUTH: z.enum(['pat', 'entra']).default('entra'),
  DATABRICKS_TOKEN: z.string().optional().describe('Personal access token (local only)'),
  JOB_CATALOG_PATH: z.string().default('config/job-catalog.json'),
  JOBS_LAKE_ROOT: z
    .string()
    .regex(
      /^(abfss:\/\/\{zone\}@[a-z0-9]+\.dfs\.core\.windows\.net|\/.+)$/,
      'expected abfss://{zone}@<account>.dfs.core.windows.net or an absolute path',
    )
    .optional()
    .describe('lake_root job parameter (default: derived from the lake account)'),
  COALESCING_WINDOW_MAX_SECONDS: z.coerce
    .number()
    .min(0)
    .max(3600)
    .optional()
    .describe('caps every job catalog coalescing window (the local stack uses 2 s)'),
  DISPATCH_POLL_INITIAL_MS: intFromString(100, 600_000).default(2000).describe('first runs/get poll after run-now'),
  DISPATCH_POLL_MAX_MS: intFromString(100, 3_600_000).default(60_000).describe('slowest runs/get poll interval'),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().optional(),
  ORBITER_TELEMETRY_DIR: z.string().optional().describe('Local telemetry as JSON lines (the local stack sets .orbiter/telemetry)'),
  ORBITER_FUNCTION_KEY: z.string().min(16).optional().describe('Local host function key (Azure manages keys itself)'),
  API_AUTH_MODE: z
    .enum(['function-key', 'entra'])
    .default('function-key')
    .describe('Run API auth: function keys, or Entra ID bearer tokens (app roles) verified by the app'),
  RUN_API_QUOTA_PER_MINUTE: intFromString(1, 100_000)
    .default(120)
    .describe('Runs one Run API caller may request per minute (token bucket in table storage; a backfill counts one per window)'),
  RUN_API_IDEMPOTENCY_TTL_HOURS: intFromString(1, 24 * 365)
    .default(24)
    .describe('How long a Run API Idempotency-Key replays its first request; after that the same key starts new runs'),
  ENTRA_TENANT_ID: z.uuid().optional().describe('Entra tenant whose tokens the Run API accepts (required when API_AUTH_MODE=entra)'),
  ENTRA_API_AUDIENCE: z.string().min(1).optional().describe("The Run API's application ID URI or client id (token aud)"),
  ENTRA_JWKS_URI: httpUrl.optional().describe("Signing keys (default: the tenant's v2.0 JWKS); tests point it at a local JWKS"),
  ENTRA_ISSUER: httpUrl.optional().describe("Expected token issuer (default: the tenant's v2.0 and v1.0 issuers)"),
});

/** Rules across settings, checked on the raw values so they are reported together with per-setting errors. */
function crossChecks(env: Record<string, string>): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (!env['OrbiterLake'] && !env['OrbiterLake__blobServiceUri']) {
    out.push({
      path: Connections.lake,
      message: `set ${Connections.lake} (connection string) or ${Connections.lake}__blobServiceUri (identity-based)`,
    });
  }
  if (env['DATABRICKS_AUTH'] === 'pat' && env['DATABRICKS_HOST'] && !env['DATABRICKS_TOKEN']) {
    out.push({ path: 'DATABRICKS_TOKEN', message: 'required when DATABRICKS_AUTH=pat' });
  }
  out.push(...apiAuthIssues(env));
  out.push(...replayIssues(env));
  return out;
}

/** The settings naming a NASA endpoint; their defaults are the live APIs. */
export const nasaUrlSettings = [
  'NASA_API_BASE_URL',
  'EPIC_API_BASE_URL',
  'EONET_API_BASE_URL',
  'JPL_SSD_API_BASE_URL',
  'METEORITES_API_URL',
  'CMR_API_BASE_URL',
] as const;

// NASA_MODE=replay must never reach live NASA: an unset endpoint would fall back to its live default, so every one must
// be given and none may name a NASA host.
function replayIssues(env: Record<string, string | undefined>): { path: string; message: string }[] {
  if (env['NASA_MODE'] !== 'replay') return [];
  const out: { path: string; message: string }[] = [];
  for (const k of nasaUrlSettings) {
    const v = env[k];
    let host = '';
    try {
      host = v ? new URL(v).hostname : '';
    } catch {
      continue; // the URL's own check names it
    }
    if (!v)
      out.push({
        path: k,
        message:
          'NASA_MODE=replay needs the replay server URL here (unset means live NASA); start the local stack (npm start), which publishes its URLs',
      });
    else if (host === 'nasa.gov' || host.endsWith('.nasa.gov'))
      out.push({ path: k, message: `NASA_MODE=replay but ${host} is live NASA: point it at the replay server, or set NASA_MODE=live` });
  }
  return out;
}

// Fail closed: entra mode without a token verifier would leave the anonymous-to-the-host Run API unauthenticated.
function apiAuthIssues(env: Record<string, string | undefined>): { path: string; message: string }[] {
  if (env['API_AUTH_MODE'] !== 'entra') return [];
  return ['ENTRA_TENANT_ID', 'ENTRA_API_AUDIENCE'].filter((k) => !env[k]).map((k) => ({ path: k, message: 'required when API_AUTH_MODE=entra' }));
}

/** Checked when the functions register (before any request): the app refuses to load with an open Run API. */
export function assertApiAuthConfigured(env: Record<string, string | undefined> = process.env): void {
  const issues = apiAuthIssues(env);
  if (issues.length > 0) {
    throw new OrbiterError('ConfigInvalid', `Invalid Orbiter configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, {
      details: { settings: issues.map((i) => i.path) },
    });
  }
}

export type OrbiterConfig = Readonly<z.output<typeof configSchema>>;

/** Parses the environment once; every bad or missing setting is named in one error. */
export function loadConfig(env: Record<string, string | undefined> = process.env): OrbiterConfig {
  // Empty strings mean "unset" (local.settings.json templates often carry "").
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  const issues = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }))),
    ...crossChecks(cleaned as Record<string, string>),
  ];
  if (issues.length > 0 || !parsed.success) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
    throw new OrbiterError('ConfigInvalid', `Invalid Orbiter configuration:\n${lines.join('\n')}`, {
      details: { settings: issues.map((i) => i.path) },
    });
  }
  return Object.freeze(parsed.data);
}

/**
 * The Run API's auth mode alone, as loadConfig reads it: the functions' auth levels depend on it when they are
 * registered, before the rest of the configuration is read.
 */
export function apiAuthModeOf(env: Readonly<Record<string, string | undefined>>): OrbiterConfig['API_AUTH_MODE'] {
  const v = env['API_AUTH_MODE'];
  // An invalid value is loadConfig's to report (naming it); until then the stricter function keys apply.
  return configSchema.shape.API_AUTH_MODE.safeParse(v === '' ? undefined : v).data ?? 'function-key';
}
