#!/usr/bin/env node
// Runs one project's jest suite and keeps its JSON result in reports/jest/<name>.json, which
// tools/check.mjs sums into the closing "tests: N passed, M failed" line.
//   node tools/jest-run.mjs <name> <jest config> [extra jest args…]
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [name, config, ...extra] = process.argv.slice(2);
if (!name || !config) {
  console.error('usage: node tools/jest-run.mjs <name> <jest config> [jest args…]');
  process.exit(2);
}
const out = path.join(root, 'reports', 'jest', `${name}.json`);
mkdirSync(path.dirname(out), { recursive: true });
rmSync(out, { force: true });
const jestBin = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const res = spawnSync(
  process.execPath,
  [jestBin, '-c', config, '--json', `--outputFile=${out}`, '--passWithNoTests', ...extra],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(res.status ?? 1);
