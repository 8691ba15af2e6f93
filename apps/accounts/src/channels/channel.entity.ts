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
import type { ChannelStatus, ChannelStatusReason, ChannelType } from '@tollgate/contracts';
import { timestampColumn } from '../database/columns';
import { OrganisationEntity } from '../organisations/organisation.entity';

@Entity({ name: 'channels' })
@Check('channels_status_check', `status IN ('enabled', 'disabled')`)
@Check('channels_weight_check', `weight >= 0`)
@Check('channels_type_check', `type IN ('openai', 'azure', 'anthropic', 'gemini')`)
@Check(
  'channels_timeouts_check',
  `connect_timeout_ms > 0 AND first_byte_timeout_ms > 0 AND total_timeout_ms > 0`,
)
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
  type!: ChannelType;

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

  /** why it is disabled; null while enabled */
  @Column({ name: 'status_reason', type: 'varchar', length: 32, nullable: true })
  statusReason!: ChannelStatusReason | null;

  /**
   * Fingerprint of the credential whose rejection disabled the channel (see
   * `credentialFingerprint`), so each rejection report is applied once; cleared when an admin
   * enables the channel again.
   */
  @Column({ name: 'rejected_credential', type: 'varchar', length: 64, nullable: true })
  rejectedCredential!: string | null;

  /** Azure's api-version; null for the other types */
  @Column({ name: 'api_version', type: 'varchar', length: 40, nullable: true })
  apiVersion!: string | null;

  /** header name (lower-case) → value, sent with every upstream request */
  @Column({ name: 'extra_headers', type: 'jsonb', default: () => `'{}'` })
  extraHeaders!: Record<string, string>;

  /** null: the proxy's default */
  @Column({ name: 'connect_timeout_ms', type: 'integer', nullable: true })
  connectTimeoutMs!: number | null;

  @Column({ name: 'first_byte_timeout_ms', type: 'integer', nullable: true })
  firstByteTimeoutMs!: number | null;

  @Column({ name: 'total_timeout_ms', type: 'integer', nullable: true })
  totalTimeoutMs!: number | null;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;

  @UpdateDateColumn(timestampColumn('updated_at'))
  updatedAt!: Date;
}
