import type { ValueTransformer } from 'typeorm';

/** Maps PostgreSQL `bigint` (which pg returns as a string) to a TypeScript bigint, never a Number. */
export const bigintTransformer: ValueTransformer = {
  to(value: unknown): unknown {
    return typeof value === 'bigint' ? value.toString() : value;
  },
  from(value: unknown): bigint | null {
    if (value === null || value === undefined) return null;
    return BigInt(value as string);
  },
};
