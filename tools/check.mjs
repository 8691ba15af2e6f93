#!/usr/bin/env node
// `npm run check`: every check of the workspace — Nx sync, lint, typecheck, unit + integration tests,
// the end-to-end suite (which builds the services first). It keeps going after a failure so every
// part reports, sums the jest results kept in reports/jest/*.json and ends with the plain line
//   tests: N passed, M failed
// exiting non-zero if anything failed (a lint, typecheck or build failure too).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reportDir = path.join(root, 'reports', 'jest');
const nxPackage = createRequire(path.join(root, 'package.json')).resolve('nx/package.json');
const nxBin = path.join(path.dirname(nxPackage), JSON.parse(readFileSync(nxPackage, 'utf8')).bin.nx);
const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NEXT_TELEMETRY_DISABLED: '1',
  NX_TUI: 'false',
  FORCE_COLOR: process.env.FORCE_COLOR ?? '0',
};

/** Runs nx with the given arguments, echoing its output, and returns its status and the failed tasks. */
function nx(label, nxArgs) {
  console.log(`\n=== ${label}: nx ${nxArgs.join(' ')}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [nxBin, ...nxArgs], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d) => {
      output += d;
      process.stdout.write(d);
    });
    proc.stderr.on('data', (d) => {
      output += d;
      process.stderr.write(d);
    });
    proc.on('close', (code, signal) => {
      resolve({
        label,
        ok: code === 0,
        status: signal ? `killed by ${signal}` : `exit ${code}`,
        failedTasks: failedTasks(output),
        seconds: Math.round((Date.now() - started) / 1000),
        output,
      });
    });
  });
}

/** Nx ends a failed run with "Failed tasks:" followed by "- project:target" lines. */
function failedTasks(output) {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const i = plain.lastIndexOf('Failed tasks:');
  if (i < 0) return [];
  const tasks = [];
  for (const line of plain.slice(i).split('\n').slice(1)) {
    const m = /^\s*-\s+(\S+:\S+)/.exec(line);
    if (m) tasks.push(m[1]);
    else if (tasks.length && line.trim() === '') break;
  }
  return tasks;
}

function projectsWithTarget(target) {
  const r = spawnSync(process.execPath, [nxBin, 'show', 'projects', '--with-target', target, '--json'], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  try {
    return r.status === 0 ? JSON.parse(r.stdout) : [];
  } catch {
    return [];
  }
}

/** Adds up one jest --json report; a suite that failed to run counts as one failed test. */
function readReport(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  let passed = report.numPassedTests ?? 0;
  let failed = report.numFailedTests ?? 0;
  for (const suite of report.testResults ?? []) {
    const ranNothing = (suite.assertionResults ?? []).length === 0;
    if (suite.status === 'failed' && ranNothing) failed += 1;
  }
  if (report.success === false && passed + failed === 0) failed += 1;
  return { passed, failed };
}

async function main() {
  const started = Date.now();
  rmSync(reportDir, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });

  const parts = [];
  const help = spawnSync(process.execPath, [nxBin, 'sync:check', '--help'], { cwd: root, env, encoding: 'utf8' });
  if (help.status === 0) parts.push(await nx('sync', ['sync:check']));
  else console.log('\n=== sync: nx sync:check is not available in this Nx; skipped');

  parts.push(await nx('lint + typecheck', ['run-many', '-t', 'lint', 'typecheck', '--outputStyle=static']));
  parts.push(await nx('unit + integration tests', ['run-many', '-t', 'test', '--parallel=2', '--outputStyle=static']));
  parts.push(await nx('end-to-end tests', ['run', 'e2e:e2e', '--outputStyle=static']));

  // Sum the jest reports; a project whose test run left no report failed to run at all.
  let passed = 0;
  let failed = 0;
  const problems = [];
  const reports = existsSync(reportDir) ? readdirSync(reportDir).filter((f) => f.endsWith('.json')) : [];
  for (const f of reports.sort()) {
    try {
      const r = readReport(path.join(reportDir, f));
      passed += r.passed;
      failed += r.failed;
    } catch (e) {
      failed += 1;
      problems.push(`reports/jest/${f} is unreadable (${e.message})`);
    }
  }
  const expected = [...new Set([...projectsWithTarget('test'), 'e2e'])];
  const failedTaskSet = new Set(parts.flatMap((p) => p.failedTasks));
  for (const name of expected) {
    if (reports.includes(`${name}.json`)) continue;
    const task = name === 'e2e' ? 'e2e:e2e' : `${name}:test`;
    const partFailed = name === 'e2e' ? !parts.at(-1).ok : failedTaskSet.has(task);
    if (partFailed) {
      failed += 1;
      problems.push(`${task} produced no jest report (it did not run, or crashed): counted as 1 failed`);
    }
  }

  console.log('\n=== summary');
  for (const p of parts) {
    const detail = p.ok ? '' : p.failedTasks.length ? ` — failed: ${p.failedTasks.join(', ')}` : ` (${p.status})`;
    console.log(`${p.ok ? 'ok    ' : 'FAILED'} ${p.label} [${p.seconds} s]${detail}`);
  }
  for (const problem of problems) console.log(`note: ${problem}`);
  console.log(`total ${Math.round((Date.now() - started) / 1000)} s`);
  const allOk = parts.every((p) => p.ok) && failed === 0;
  console.log(`tests: ${passed} passed, ${failed} failed`);
  process.exit(allOk ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
});
