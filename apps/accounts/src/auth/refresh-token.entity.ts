import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { timestampColumn } from '../database/columns';
import { UserEntity } from '../users/user.entity';

/**
 * One refresh token. Each refresh rotates it (marks `rotatedAt`, issues a successor in the same
 * family); presenting a rotated token again revokes the whole family.
 */
@Entity({ name: 'refresh_tokens' })
@Index('refresh_tokens_family_idx', ['familyId'])
@Index('refresh_tokens_user_idx', ['userId'])
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'refresh_tokens_user_fk' })
  user?: UserEntity;

  @Column({ name: 'family_id', type: 'uuid' })
  familyId!: string;

  /** sha256 hex of the token. */
  @Index('refresh_tokens_token_hash_key', { unique: true })
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @Column(timestampColumn('expires_at'))
  expiresAt!: Date;

  @Column(timestampColumn('rotated_at', { nullable: true }))
  rotatedAt!: Date | null;

  @Column(timestampColumn('revoked_at', { nullable: true }))
  revokedAt!: Date | null;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;
}
