import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Validates the environment once, at boot, into a typed config object. This is the only place that
 * reads `process.env`; properties named in `secretKeys` are masked by `describeConfig`.
 */
export function loadConfig<T extends object>(
  cls: new () => T,
  env: Record<string, string | undefined> = process.env,
): T {
  // Only the variables the class declares are read, so a config object never carries the rest of
  // the environment (and logging it cannot leak unrelated secrets).
  const known = new Set<string>(Object.keys(new cls()));
  for (const m of getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false)) known.add(m.propertyName);
  const defined: Record<string, string> = {};
  for (const k of known) {
    const v = env[k];
    if (v !== undefined && v !== '') defined[k] = v;
  }
  const instance = plainToInstance(cls, defined, { enableImplicitConversion: true, exposeDefaultValues: true });
  const errors = validateSync(instance, { whitelist: false, skipMissingProperties: false });
  if (errors.length) {
    throw new ConfigValidationError(
      errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`),
    );
  }
  return instance;
}

/** A printable view of a config with secrets masked. */
export function describeConfig<T extends object>(config: T, secretKeys: readonly (keyof T)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    out[k] = secretKeys.includes(k as keyof T) ? '***' : v;
  }
  return out;
}
