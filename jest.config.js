/** Unit tests are pure logic; integration tests start real PostgreSQL, S3 and SMTP servers on loopback. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // Integration suites each start their own PostgreSQL cluster; two workers fit this 2-core machine.
  maxWorkers: 2,
};
