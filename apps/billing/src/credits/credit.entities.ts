import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { bigintTransformer } from '../common/bigint.transformer';

/** One credit of an organisation's prepaid balance: a grant by a platform admin or a redeemed code. */
@Entity({ name: 'credit_grants' })
@Index('ix_credit_grants_org_created', ['organisationId', 'createdAt', 'id'])
@Index('uq_credit_grants_redemption_code', ['redemptionCodeId'], { unique: true })
export class CreditGrantEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_credit_grants' })
  id!: string;

  @Column({ name: 'organisation_id', type: 'text' })
  organisationId!: string;

  @Column({ name: 'amount_nano_usd', type: 'bigint', transformer: bigintTransformer })
  amountNanoUsd!: bigint;

  /** `grant` or `redemption` */
  @Column({ name: 'source', type: 'text' })
  source!: string;

  @Column({ name: 'note', type: 'text', nullable: true })
  note!: string | null;

  /** unique: a code credits at most once, even if two transactions got past the code's own guard */
  @Column({ name: 'redemption_code_id', type: 'uuid', nullable: true })
  redemptionCodeId!: string | null;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/** A redemption code; only the SHA-256 of the code is stored. */
@Entity({ name: 'redemption_codes' })
@Unique('uq_redemption_codes_hash', ['codeHash'])
export class RedemptionCodeEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid', primaryKeyConstraintName: 'pk_redemption_codes' })
  id!: string;

  @Column({ name: 'code_hash', type: 'text' })
  codeHash!: string;

  @Column({ name: 'amount_nano_usd', type: 'bigint', transformer: bigintTransformer })
  amountNanoUsd!: bigint;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'redeemed_by_organisation_id', type: 'text', nullable: true })
  redeemedByOrganisationId!: string | null;

  @Column({ name: 'redeemed_by', type: 'text', nullable: true })
  redeemedBy!: string | null;

  @Column({ name: 'redeemed_at', type: 'timestamptz', nullable: true })
  redeemedAt!: Date | null;
}
