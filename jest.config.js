// Test tiers by file suffix (STYLE.md rule 22): *.spec.ts pure and fast, *.int-spec.ts against real
// stores and engines, *.e2e-spec.ts through HTTP against the started apps.
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swc.exclude;
delete swc.$schema;
swc.jsc.baseUrl = __dirname;

const moduleNameMapper = {
  '^@lib/(domain|event-store|shared)$': '<rootDir>/libs/$1/src',
  '^@lib/(domain|event-store|shared)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const tier = (displayName, testMatch, extra = {}) => ({
  displayName,
  rootDir: __dirname,
  testMatch,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleNameMapper,
  ...extra,
});

module.exports = {
  // Compiles dist/ once per run: integration and e2e tests start the compiled apps as real processes.
  globalSetup: '<rootDir>/test/support/global-setup.js',
  projects: [
    tier('unit', ['<rootDir>/{apps,libs,test}/**/*.spec.ts']),
    tier('int', ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts']),
    tier('e2e', ['<rootDir>/{apps,libs,test}/**/*.e2e-spec.ts']),
  ],
  testTimeout: 30000,
};
