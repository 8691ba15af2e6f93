import type { ColumnOptions } from 'typeorm';

/**
 * Timestamps are kept to the millisecond, the precision of a JavaScript Date, so a keyset cursor
 * built from a row's `createdAt` compares equal to the stored value.
 */
export const timestampColumn = (name: string, extra: ColumnOptions = {}): ColumnOptions => ({
  name,
  type: 'timestamptz',
  precision: 3,
  ...extra,
});
