module.exports = {
  ...require('../../../jest.preset.cjs'),
  displayName: 'server-admission',
  rootDir: __dirname,
};
