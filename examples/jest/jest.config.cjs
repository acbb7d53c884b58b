/**
 * One localeks for the whole run: globalSetup starts it (startLocaleks) in
 * jest's parent process and hands its endpoint to the test workers through
 * environment variables; globalTeardown stops it. Tests isolate themselves
 * with POST /_localeks/reset (milliseconds) instead of a new server.
 */
module.exports = {
  testEnvironment: 'node',
  globalSetup: './global-setup.mjs',
  globalTeardown: './global-teardown.mjs',
  // The tests are plain CommonJS: nothing to transform.
  transform: {},
  testMatch: ['**/*.test.cjs'],
};
