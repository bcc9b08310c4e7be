/**
 * One jest run over the app (test/) and every package (packages/<name>/test/): unit tests, integration tests that start
 * real local peers (Azurite, emulators), and the fault suite on request. Imports resolve to TypeScript sources:
 * `orbiter/…` is the app (root package), `@orbiter/<name>/…` a package's src/.
 */
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.check.json' }] },
  moduleNameMapper: {
    '^orbiter/(.*)$': '<rootDir>/$1',
    '^@orbiter/([^/]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@orbiter/([^/]+)/(.*)$': '<rootDir>/packages/$1/src/$2',
  },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/packages/[^/]+/dist/', '<rootDir>/.orbiter/'],
};
// The fault-injection suite (npm run test:faults) runs only when asked for by project name or path: a plain `jest`
// (npm test, CI) does not pick it up.
const wantsFaults = process.argv.some((a) => /(^|=)faults$/.test(a) || a.includes('test/faults'));
module.exports = {
  // testTimeout inside a project entry is ignored by jest; it must be global.
  testTimeout: 120000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/packages/*/test/unit/**/*.test.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/packages/*/test/integration/**/*.test.ts'],
    },
    ...(wantsFaults ? [{ ...base, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.test.ts'] }] : []),
  ],
};
