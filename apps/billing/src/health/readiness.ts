/** One dependency `/health/ready` checks; `check` rejects when it is unusable. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

export const READINESS_TIMEOUT_MS = 2_000;

/** Runs every check at once, each bounded in time; returns the failures by name. */
export async function runReadinessChecks(
  checks: readonly ReadinessCheck[],
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<Record<string, string>> {
  const failures: Record<string, string> = {};
  await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([c.check(), timeout]);
      } catch (e) {
        failures[c.name] = e instanceof Error ? e.message : String(e);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return failures;
}
