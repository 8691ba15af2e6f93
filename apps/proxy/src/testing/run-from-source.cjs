// Runs the proxy's real entry point (apps/proxy/src/main.ts) in its own process without a build,
// for tests that need separate replicas: TypeScript is compiled on require by @swc/core with the
// settings of jest.preset.cjs, and the `@tollgate/*` paths of tsconfig.base.json are mapped to
// the lib sources. Configuration comes from the environment, as in production.
//   node apps/proxy/src/testing/run-from-source.cjs
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '..', '..', '..', '..');
const { compilerOptions } = require(path.join(root, 'tsconfig.base.json'));
const aliases = new Map(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    alias,
    path.join(root, target),
  ]),
);

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const target = aliases.get(request);
  return resolve.call(this, target ?? request, ...rest);
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

require(path.join(root, 'apps', 'proxy', 'src', 'main.ts'));
