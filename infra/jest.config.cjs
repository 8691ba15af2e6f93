// Checks of the deployment files (docker-compose.yml, infra/docker, k8s/). Only infra/tests holds specs:
// infra/dev belongs to the local start scripts.
module.exports = {
  ...require('../jest.preset.cjs'),
  displayName: 'infra',
  rootDir: __dirname,
  roots: ['<rootDir>/tests'],
};
