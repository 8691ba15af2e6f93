import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { timestampColumn } from '../database/columns';
import { OrganisationEntity } from '../organisations/organisation.entity';

@Entity({ name: 'tenants' })
@Index('tenants_organisation_created_idx', ['organisationId', 'createdAt', 'id'])
export class TenantEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'organisation_id', type: 'uuid' })
  organisationId!: string;

  @ManyToOne(() => OrganisationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'tenants_organisation_fk' })
  organisation?: OrganisationEntity;

  @Column({ type: 'varchar', length: 120 })
  name!: string;

  /** Tenant group for channel routing. */
  @Column({ name: 'tenant_group', type: 'varchar', length: 63, default: 'default' })
  group!: string;

  @Column({ name: 'allow_fallback', type: 'boolean', default: true })
  allowFallback!: boolean;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;

  @UpdateDateColumn(timestampColumn('updated_at'))
  updatedAt!: Date;
}
