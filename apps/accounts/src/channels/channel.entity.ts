import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { ChannelStatus } from '@tollgate/contracts';
import { timestampColumn } from '../database/columns';
import { OrganisationEntity } from '../organisations/organisation.entity';

@Entity({ name: 'channels' })
@Check('channels_status_check', `status IN ('enabled', 'disabled')`)
@Check('channels_weight_check', `weight >= 0`)
@Index('channels_created_idx', ['createdAt', 'id'])
export class ChannelEntity {
  /**
   * Assigned by the service before insert: the id is the associated data of the credential's
   * AES-GCM envelope, so it must be known when the credential is sealed.
   */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** null: a platform-wide channel; otherwise the organisation that brought its own key. */
  @Column({ name: 'organisation_id', type: 'uuid', nullable: true })
  organisationId!: string | null;

  @ManyToOne(() => OrganisationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organisation_id', foreignKeyConstraintName: 'channels_organisation_fk' })
  organisation?: OrganisationEntity;

  @Column({ type: 'varchar', length: 120 })
  name!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: string;

  @Column({ name: 'base_url', type: 'varchar', length: 500 })
  baseUrl!: string;

  /** `SecretBox.seal(apiKey, id)`; never returned by the API. */
  @Column({ name: 'encrypted_api_key', type: 'text' })
  encryptedApiKey!: string;

  @Column({ type: 'text', array: true })
  models!: string[];

  @Column({ name: 'model_mapping', type: 'jsonb', default: () => `'{}'` })
  modelMapping!: Record<string, string>;

  @Column({ type: 'integer', default: 0 })
  priority!: number;

  @Column({ type: 'integer', default: 1 })
  weight!: number;

  @Column({ type: 'text', array: true, default: () => `'{default}'` })
  groups!: string[];

  @Column({ type: 'varchar', length: 16, default: 'enabled' })
  status!: ChannelStatus;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;

  @UpdateDateColumn(timestampColumn('updated_at'))
  updatedAt!: Date;
}
