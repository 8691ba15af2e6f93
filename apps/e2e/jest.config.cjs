// Whole-stack tests: they start the built services as child processes (see src/support/stack.ts),
// so they are slow, run in band, and only under the `e2e` target — never under `test`.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'e2e',
  rootDir: __dirname,
  testMatch: ['**/*.e2e-spec.ts'],
  testTimeout: 120_000,
  slowTestThreshold: 30,
};
