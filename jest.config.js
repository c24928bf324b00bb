/**
 * Unit tests are pure logic; integration tests start real PostgreSQL, S3 and SMTP servers on loopback.
 * The image tests (test/image) need a Docker engine: scripts/test-image.sh runs them (jest.image.config.js).
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/{unit,integration}/**/*.test.ts'],
  testTimeout: 120000,
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // Integration suites each start their own PostgreSQL cluster; two workers fit this 2-core machine.
  maxWorkers: 2,
};
