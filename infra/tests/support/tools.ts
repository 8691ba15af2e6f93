import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { repoRoot } from './conventions';

/** Whether `bin` runs here (on PATH and answers `args` with exit code 0). */
export function toolAvailable(bin: string, args: readonly string[]): boolean {
  const res = spawnSync(bin, args, { encoding: 'utf8', timeout: 20_000 });
  return !res.error && res.status === 0;
}

/** Runs a tool in the repository root with a bounded time, returning its outcome. */
export function runTool(
  bin: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): SpawnSyncReturns<string> {
  return spawnSync(bin, args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env });
}

type TestBody = jest.ProvidesCallback;

/**
 * `it` when `available`; otherwise a test that only records why its assertion was not made here (the
 * optional tool is missing), so the rest of the suite still runs on machines without it.
 */
export function itWhen(
  available: boolean,
  missingNote: string,
): (name: string, body: TestBody) => void {
  if (available) return (name, body) => it(name, body);
  return (name) =>
    it(`${name} (not checked: ${missingNote})`, () => {
      console.warn(`infra tests: "${name}" not checked: ${missingNote}`);
    });
}
