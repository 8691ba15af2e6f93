// Unit tests of the portal's server-side helpers (session, API client, formatting). They run under
// the workspace's @swc/jest preset in a node environment; pages are covered by the browser test.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'portal',
  rootDir: __dirname,
  roots: ['<rootDir>/src'],
  modulePathIgnorePatterns: ['<rootDir>/.next/'],
};
