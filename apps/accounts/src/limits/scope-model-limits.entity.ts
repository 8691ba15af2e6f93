import type { ModelLimitScope } from '@tollgate/contracts';
import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { OrganisationEntity } from '../organisations/organisation.entity';
import { LimitColumns } from './scope-limits.entity';

/**
 * Budgets and rate limits of one public model on a tenant or key (on top of the tenant's or key's
 * own limits); `scopeId` is the tenant or key id. A null column is unlimited; a row whose columns
 * are all null is the same as no row.
 */
@Entity({ name: 'scope_model_limits' })
@Unique('scope_model_limits_scope_model_key', ['scope', 'scopeId', 'model'])
@Check('scope_model_limits_scope_check', `scope IN ('tenant', 'key')`)
@Check(
  'scope_model_limits_non_negative_check',
  `daily_budget_nano >= 0 AND monthly_budget_nano >= 0 AND total_budget_nano >= 0 AND rpm >= 0 AND tpm >= 0 AND max_concurrent >= 0`,
)
@Index('scope_model_limits_organisation_idx', ['organisationId'])
@Index('scope_model_limits_updated_idx', ['updatedAt'])
export class ScopeModelLimitsEntity extends LimitColumns {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organisation_id', type: 'uuid' })
  organisationId!: string;

  @ManyToOne(() => OrganisationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'organisation_id',
    foreignKeyConstraintName: 'scope_model_limits_organisation_fk',
  })
  organisation?: OrganisationEntity;

  @Column({ type: 'varchar', length: 8 })
  scope!: ModelLimitScope;

  @Column({ name: 'scope_id', type: 'uuid' })
  scopeId!: string;

  /** the public model name, as requested from the proxy */
  @Column({ type: 'varchar', length: 200 })
  model!: string;
}
