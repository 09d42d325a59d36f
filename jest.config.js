/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  // The Backstage end-to-end suites start real backends; give them room on 2 cores.
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/summaryReporter.js'],
};
