import { loadConfig, nasaUrlSettings, sourceIds } from '../../shared/config';
import { isOrbiterError } from '../../shared/errors';
import { Connections } from '../../shared/names';
import { ORBITER_VERSION } from '../../shared/version';

const base = { OrbiterLake: 'UseDevelopmentStorage=true' };

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(isOrbiterError(err, 'ConfigInvalid')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('configuration', () => {
  it('applies documented defaults', () => {
    const c = loadConfig(base);
    expect(c.NASA_API_KEY).toBe('DEMO_KEY');
    expect(c.NASA_MODE).toBe('live');
    expect(c.EPIC_API_BASE_URL).toBe('https://epic.gsfc.nasa.gov/api');
    expect(c.INGEST_SCHEDULE).toBe('0 0 */6 * * *');
    expect(c.INGEST_SOURCES).toEqual([...sourceIds]);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names the missing lake connection', () => {
    expect(errorOf({})).toMatch(/OrbiterLake: set OrbiterLake \(connection string\) or OrbiterLake__blobServiceUri/);
  });

  it('accepts identity-based settings instead of a connection string', () => {
    const c = loadConfig({ OrbiterLake__blobServiceUri: 'https://acct.blob.core.windows.net', OrbiterLake__credential: 'managedidentity' });
    expect(c.OrbiterLake).toBeUndefined();
  });

  it.each([
    ['INGEST_SCHEDULE', '*/5 * * * *', /INGEST_SCHEDULE: expected a 6-field NCRONTAB/],
    ['INGEST_SCHEDULE', '0 0 99 * * *', /INGEST_SCHEDULE/],
    ['INGEST_START_DATE', '2024-02-31', /INGEST_START_DATE: not a real calendar date/],
    ['INGEST_SOURCES', 'neows,mars', /INGEST_SOURCES/],
    ['INGEST_START_DATES', 'mars=2024-01-01', /INGEST_START_DATES/],
    ['INGEST_START_DATES', 'fireball=1988-02-30', /INGEST_START_DATES/],
    ['INGEST_START_DATES', 'fireball', /INGEST_START_DATES/],
    ['NASA_MODE', 'offline', /NASA_MODE/],
    ['NASA_API_BASE_URL', 'ftp://x', /NASA_API_BASE_URL: expected an http\(s\) URL/],
    ['HTTP_TIMEOUT_MS', 'soon', /HTTP_TIMEOUT_MS/],
    ['CMR_PAGE_SIZE', '5000', /CMR_PAGE_SIZE/],
  ])('rejects a bad %s (%s) naming it', (key, value, msg) => {
    expect(errorOf({ ...base, [key]: value })).toMatch(msg);
  });

  it('NASA_MODE=replay never falls back to live NASA: every endpoint must be given, and none may be a nasa.gov host', () => {
    const replayUrls = Object.fromEntries(nasaUrlSettings.map((k) => [k, `http://127.0.0.1:4321/${k.toLowerCase()}`]));
    expect(loadConfig({ ...base, NASA_MODE: 'replay', ...replayUrls }).NASA_MODE).toBe('replay');
    // The example local.settings.json: replay, but no URLs.
    const unset = errorOf({ ...base, NASA_MODE: 'replay' });
    for (const k of nasaUrlSettings) expect(unset).toMatch(new RegExp(`${k}: NASA_MODE=replay needs the replay server URL`));
    expect(errorOf({ ...base, NASA_MODE: 'replay', ...replayUrls, EONET_API_BASE_URL: 'https://eonet.gsfc.nasa.gov/api/v3' })).toMatch(
      /EONET_API_BASE_URL: NASA_MODE=replay but eonet\.gsfc\.nasa\.gov is live NASA/,
    );
    // Live mode keeps its live defaults.
    expect(loadConfig({ ...base, NASA_MODE: 'live' }).NASA_API_BASE_URL).toBe('https://api.nasa.gov');
  });

  it('reports every bad setting at once', () => {
    const m = errorOf({ NASA_MODE: 'x', HTTP_TIMEOUT_MS: '-1' });
    expect(m).toMatch(/NASA_MODE/);
    expect(m).toMatch(/HTTP_TIMEOUT_MS/);
    expect(m).toMatch(/OrbiterLake/);
  });

  it('parses source lists, "all" and duplicates', () => {
    expect(loadConfig({ ...base, INGEST_SOURCES: 'neows, donki,neows' }).INGEST_SOURCES).toEqual(['neows', 'donki']);
    expect(loadConfig({ ...base, INGEST_SOURCES: 'all' }).INGEST_SOURCES).toHaveLength(sourceIds.length);
  });

  it('parses per-source start dates', () => {
    expect(loadConfig({ ...base, INGEST_START_DATES: 'fireball=1988-04-15, epic=2024-05-31' }).INGEST_START_DATES).toEqual({
      fireball: '1988-04-15',
      epic: '2024-05-31',
    });
    expect(loadConfig(base).INGEST_START_DATES).toBeUndefined();
  });

  it('requires a PAT only when PAT auth is chosen for a configured workspace', () => {
    expect(errorOf({ ...base, DATABRICKS_HOST: 'https://adb-1.azuredatabricks.net', DATABRICKS_AUTH: 'pat' })).toMatch(/DATABRICKS_TOKEN/);
    expect(() => loadConfig({ ...base, DATABRICKS_HOST: 'https://adb-1.azuredatabricks.net' })).not.toThrow();
  });

  it('treats empty strings as unset, like local.settings.json templates', () => {
    expect(loadConfig({ ...base, NASA_API_KEY: '' }).NASA_API_KEY).toBe('DEMO_KEY');
  });

  it('keeps the schema keys in step with names.ts and the version with package.json', () => {
    const c = loadConfig({ [Connections.lake]: 'x', [Connections.serviceBus]: 'y' });
    expect(c.OrbiterLake).toBe('x');
    expect(c.ServiceBusConnection).toBe('y');

    expect(ORBITER_VERSION).toBe((require('../../package.json') as { version: string }).version);
  });
});
