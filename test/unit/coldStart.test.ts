/**
 * Cold start: the Functions host imports every function definition before the first invocation, so the heavy clients
 * must be required on first use (functions/composition.ts), never at import. A top-level import of one of
 * these packages anywhere under functions/all.ts fails this test.
 */
const deferred = [
  '@azure/service-bus',
  '@azure/storage-blob',
  '@azure/identity',
  '@azure/monitor-opentelemetry',
  '@azure/data-tables',
  'axios',
  'pino',
];

describe('importing the function app', () => {
  it('loads none of the heavy clients until a handler needs them', () => {
    const loaded: string[] = [];
    jest.isolateModules(() => {
      for (const m of deferred) {
        jest.doMock(m, () => {
          loaded.push(m);
          return jest.requireActual(m);
        });
      }

      const { allFunctions } = require('../../functions/all') as typeof import('../../functions/all');
      const { composeApp } = require('../../functions/composition') as typeof import('../../functions/composition');
      expect(allFunctions(composeApp({})).length).toBeGreaterThan(0);
    });
    expect(loaded).toEqual([]);
  });

  it('loads them once the composition root builds a client (the mock really observes requires)', () => {
    const loaded: string[] = [];
    jest.isolateModules(() => {
      for (const m of deferred) {
        jest.doMock(m, () => {
          loaded.push(m);
          return jest.requireActual(m);
        });
      }

      const { composeApp } = require('../../functions/composition') as typeof import('../../functions/composition');
      const app = composeApp({
        OrbiterLake: 'UseDevelopmentStorage=true',
        ServiceBusConnection: 'Endpoint=sb://localhost;SharedAccessKeyName=k;SharedAccessKey=a2V5;UseDevelopmentEmulator=true',
      });
      expect(app.storage().blobs.accountName).toBe('devstoreaccount1');
      expect(app.bus()).toBeDefined();
    });
    expect(loaded).toEqual(expect.arrayContaining(['@azure/storage-blob', '@azure/identity', '@azure/service-bus']));
  });
});
