/** Two projects: fast unit tests, and integration tests that start real local peers (Azurite, emulators). */
const base = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};
// The fault-injection suite (npm run test:faults) runs only when asked for by project name or path: a plain `jest`
// (npm test, CI) does not pick it up.
const wantsFaults = process.argv.some((a) => /(^|=)faults$/.test(a) || a.includes('test/faults'));
module.exports = {
  // testTimeout inside a project entry is ignored by jest; it must be global.
  testTimeout: 120000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'], testTimeout: 120000 },
    ...(wantsFaults ? [{ ...base, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.test.ts'] }] : []),
  ],
};
