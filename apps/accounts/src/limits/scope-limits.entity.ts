import type { LimitScope } from '@tollgate/contracts';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
  type ValueTransformer,
} from 'typeorm';
import { timestampColumn } from '../database/columns';
import { OrganisationEntity } from '../organisations/organisation.entity';

/** pg returns bigint columns as strings; money stays a bigint, never a float. */
export const nullableBigintTransformer: ValueTransformer = {
  to: (v: bigint | null | undefined) => (v === null || v === undefined ? v : v.toString()),
  from: (v: string | null) => (v === null ? null : BigInt(v)),
};

/** A token count in a bigint column: within Number's safe range by validation (≤ 1e12). */
export const nullableCountTransformer: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/**
 * The six limit settings and the timestamps, shared by the scope and per-model limit tables. A null
 * column is unlimited.
 */
export abstract class LimitColumns {
  @Column({
    name: 'daily_budget_nano',
    type: 'bigint',
    nullable: true,
    transformer: nullableBigintTransformer,
  })
  dailyBudgetNano!: bigint | null;

  @Column({
    name: 'monthly_budget_nano',
    type: 'bigint',
    nullable: true,
    transformer: nullableBigintTransformer,
  })
  monthlyBudgetNano!: bigint | null;

  @Column({
    name: 'total_budget_nano',
    type: 'bigint',
    nullable: true,
    transformer: nullableBigintTransformer,
  })
  totalBudgetNano!: bigint | null;

  @Column({ type: 'integer', nullable: true })
  rpm!: number | null;

  @Column({ type: 'bigint', nullable: true, transformer: nullableCountTransformer })
  tpm!: number | null;

  @Column({ name: 'max_concurrent', type: 'integer', nullable: true })
  maxConcurrent!: number | null;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;

  @UpdateDateColumn(timestampColumn('updated_at'))
  updatedAt!: Date;
}

/**
 * Budgets and rate limits of one scope; `scopeId` is the organisation, tenant or key id. A null
 * column is unlimited; a row whose columns are all null is the same as no row.
 */
@Entity({ name: 'scope_limits' })
@Unique('scope_limits_scope_key', ['scope', 'scopeId'])
@Check('scope_limits_scope_check', `scope IN ('org', 'tenant', 'key')`)
@Check(
  'scope_limits_non_negative_check',
  `daily_budget_nano >= 0 AND monthly_budget_nano >= 0 AND total_budget_nano >= 0 AND rpm >= 0 AND tpm >= 0 AND max_concurrent >= 0`,
)
@Index('scope_limits_organisation_idx', ['organisationId'])
@Index('scope_limits_updated_idx', ['updatedAt'])
export class ScopeLimitsEntity extends LimitColumns {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organisation_id', type: 'uuid' })
  organisationId!: string;

  @ManyToOne(() => OrganisationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'scope_limits_organisation_fk' })
  organisation?: OrganisationEntity;

  @Column({ type: 'varchar', length: 8 })
  scope!: LimitScope;

  @Column({ name: 'scope_id', type: 'uuid' })
  scopeId!: string;
}
