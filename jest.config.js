/** @type {import('jest').Config} */
module.exports = {
  // Console output of a test file is shown only when one of its tests fails.
  testEnvironment: '<rootDir>/test/quietEnvironment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'], '/node_modules/jose/.+\\.js$': ['@swc/jest'] },
  // jose 6 (Backstage's JWT library since the November 2026 release) ships ES modules only,
  // which Node loads through require() but jest does not: swc turns it into CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // The Backstage end-to-end suites start real backends; give them room on 2 cores.
  testTimeout: 60000,
  setupFilesAfterEnv: ['<rootDir>/test/sessionStoreCleanupOff.js'],
  reporters: ['default', '<rootDir>/test/summaryReporter.js'],
};
