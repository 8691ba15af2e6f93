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
import { TenantEntity } from '../tenants/tenant.entity';
import { UserEntity } from '../users/user.entity';

@Entity({ name: 'api_keys' })
@Index('api_keys_tenant_created_idx', ['tenantId', 'createdAt', 'id'])
@Index('api_keys_organisation_idx', ['organisationId'])
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @ManyToOne(() => TenantEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'api_keys_tenant_fk' })
  tenant?: TenantEntity;

  @Column({ name: 'organisation_id', type: 'uuid' })
  organisationId!: string;

  @ManyToOne(() => OrganisationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'api_keys_organisation_fk' })
  organisation?: OrganisationEntity;

  @Column({ type: 'varchar', length: 120 })
  name!: string;

  /** The visible start of the secret, e.g. `tg-AbC123xyZ` (12 characters). */
  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  /** sha256 hex of the whole secret; the secret itself is never stored. */
  @Index('api_keys_secret_hash_key', { unique: true })
  @Column({ name: 'secret_hash', type: 'char', length: 64 })
  secretHash!: string;

  /** Allowed public model names; null = any. */
  @Column({ type: 'text', array: true, nullable: true })
  models!: string[] | null;

  @Column(timestampColumn('expires_at', { nullable: true }))
  expiresAt!: Date | null;

  @Column(timestampColumn('revoked_at', { nullable: true }))
  revokedAt!: Date | null;

  @Column({ name: 'allow_fallback', type: 'boolean', default: true })
  allowFallback!: boolean;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by', foreignKeyConstraintName: 'api_keys_created_by_fk' })
  creator?: UserEntity;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;

  @UpdateDateColumn(timestampColumn('updated_at'))
  updatedAt!: Date;
}
