import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../common/bigint.transformer';

/**
 * One row per proxied request, written once by the usage worker. `request_id` is the key, so a replayed
 * event cannot add a second row. Money is bigint nano-USD.
 */
@Entity({ name: 'usage_ledger' })
@Index('ix_usage_ledger_org_occurred', ['organisationId', 'occurredAt', 'requestId'])
export class UsageLedgerEntity {
  @PrimaryColumn({ name: 'request_id', type: 'text', primaryKeyConstraintName: 'pk_usage_ledger' })
  requestId!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'organisation_id', type: 'text' })
  organisationId!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'tenant_name', type: 'text', nullable: true })
  tenantName!: string | null;

  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ name: 'key_name', type: 'text', nullable: true })
  keyName!: string | null;

  @Column({ name: 'channel_id', type: 'text', nullable: true })
  channelId!: string | null;

  @Column({ name: 'provider', type: 'text', nullable: true })
  provider!: string | null;

  /** the public model name the client asked for, and is billed for */
  @Column({ name: 'model', type: 'text' })
  model!: string;

  @Column({ name: 'upstream_model', type: 'text', nullable: true })
  upstreamModel!: string | null;

  @Column({ name: 'endpoint', type: 'text' })
  endpoint!: string;

  @Column({ name: 'stream', type: 'boolean' })
  stream!: boolean;

  @Column({ name: 'outcome', type: 'text' })
  outcome!: string;

  @Column({ name: 'http_status', type: 'integer' })
  httpStatus!: number;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode!: string | null;

  @Column({ name: 'input_tokens', type: 'integer' })
  inputTokens!: number;

  @Column({ name: 'output_tokens', type: 'integer' })
  outputTokens!: number;

  @Column({ name: 'cached_input_tokens', type: 'integer' })
  cachedInputTokens!: number;

  @Column({ name: 'tokens_estimated', type: 'boolean' })
  tokensEstimated!: boolean;

  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs!: number;

  @Column({ name: 'ttft_ms', type: 'integer', nullable: true })
  ttftMs!: number | null;

  @Column({ name: 'attempts', type: 'integer' })
  attempts!: number;

  @Column({ name: 'reserved_cost_nano_usd', type: 'bigint', transformer: bigintTransformer })
  reservedCostNanoUsd!: bigint;

  @Column({ name: 'cost_nano_usd', type: 'bigint', transformer: bigintTransformer })
  costNanoUsd!: bigint;

  /** false when the price book had no price for `model` at `occurred_at` (cost is then 0) */
  @Column({ name: 'priced', type: 'boolean' })
  priced!: boolean;

  @Column({ name: 'price_version', type: 'integer', nullable: true })
  priceVersion!: number | null;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt!: Date;
}
