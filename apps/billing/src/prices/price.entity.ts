import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../common/bigint.transformer';

/**
 * The price book with its history: each change of a model's price is a new version; nothing is updated
 * or deleted, so every ledger row's `price_version` stays explainable.
 */
@Entity({ name: 'prices' })
@Index('ix_prices_model_effective_from', ['model', 'effectiveFrom'])
export class PriceEntity {
  /** the public (requested) model name */
  @PrimaryColumn({ name: 'model', type: 'text', primaryKeyConstraintName: 'pk_prices' })
  model!: string;

  /** 1, 2, 3… per model */
  @PrimaryColumn({ name: 'version', type: 'integer', primaryKeyConstraintName: 'pk_prices' })
  version!: number;

  @Column({ name: 'input_nano_usd_per_mtok', type: 'bigint', transformer: bigintTransformer })
  inputNanoUsdPerMTok!: bigint;

  @Column({ name: 'output_nano_usd_per_mtok', type: 'bigint', transformer: bigintTransformer })
  outputNanoUsdPerMTok!: bigint;

  /** usage that occurred at or after this instant is priced with this version */
  @Column({ name: 'effective_from', type: 'timestamptz' })
  effectiveFrom!: Date;

  /** user id (token subject) of the administrator who set it */
  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
