import { loadConfig, type OrbiterConfig } from '../../shared/config';

export function testConfig(overrides: Record<string, string> = {}): OrbiterConfig {
  return loadConfig({
    OrbiterLake: 'UseDevelopmentStorage=true',
    NASA_API_KEY: 'test-key-1234567890',
    HTTP_TIMEOUT_MS: '2000',
    HTTP_MAX_RETRIES: '3',
    INGEST_START_DATE: '2024-05-25',
    ...overrides,
  });
}
