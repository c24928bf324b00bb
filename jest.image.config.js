/**
 * The image tests: the built image in a Docker engine. scripts/test-image.sh starts the engine, builds
 * the image and runs these (npm run test:image); one file at a time, as each runs containers.
 */
const base = require('./jest.config.js');

module.exports = { ...base, testMatch: ['<rootDir>/test/image/**/*.test.ts'], testTimeout: 600000, maxWorkers: 1 };
