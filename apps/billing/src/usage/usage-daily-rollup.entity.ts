import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../common/bigint.transformer';

/**
 * Per UTC day, organisation, tenant, key and requested model: sums of the ledger rows. Updated in the
 * same statement that inserts a ledger row, and only when that row was new.
 */
@Entity({ name: 'usage_daily_rollup' })
export class UsageDailyRollupEntity {
  @PrimaryColumn({
    name: 'organisation_id',
    type: 'text',
    primaryKeyConstraintName: 'pk_usage_daily_rollup',
  })
  organisationId!: string;

  @PrimaryColumn({
    name: 'tenant_id',
    type: 'text',
    primaryKeyConstraintName: 'pk_usage_daily_rollup',
  })
  tenantId!: string;

  @PrimaryColumn({
    name: 'key_id',
    type: 'text',
    primaryKeyConstraintName: 'pk_usage_daily_rollup',
  })
  keyId!: string;

  @PrimaryColumn({ name: 'model', type: 'text', primaryKeyConstraintName: 'pk_usage_daily_rollup' })
  model!: string;

  /** UTC calendar day of `occurred_at`, `YYYY-MM-DD` */
  @PrimaryColumn({ name: 'day', type: 'date', primaryKeyConstraintName: 'pk_usage_daily_rollup' })
  day!: string;

  /** the names seen on the latest event of the day */
  @Column({ name: 'tenant_name', type: 'text', nullable: true })
  tenantName!: string | null;

  @Column({ name: 'key_name', type: 'text', nullable: true })
  keyName!: string | null;

  @Column({ name: 'requests', type: 'bigint', transformer: bigintTransformer })
  requests!: bigint;

  @Column({ name: 'unpriced_requests', type: 'bigint', transformer: bigintTransformer })
  unpricedRequests!: bigint;

  @Column({ name: 'input_tokens', type: 'bigint', transformer: bigintTransformer })
  inputTokens!: bigint;

  @Column({ name: 'output_tokens', type: 'bigint', transformer: bigintTransformer })
  outputTokens!: bigint;

  @Column({ name: 'cached_input_tokens', type: 'bigint', transformer: bigintTransformer })
  cachedInputTokens!: bigint;

  @Column({ name: 'cost_nano_usd', type: 'bigint', transformer: bigintTransformer })
  costNanoUsd!: bigint;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
