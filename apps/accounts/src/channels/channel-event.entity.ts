import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { ChannelEventKind } from '@tollgate/contracts';
import { timestampColumn } from '../database/columns';
import { ChannelEntity } from './channel.entity';

/**
 * Something that happened to a channel that its operators should see: a refused credential, a test.
 */
@Entity({ name: 'channel_events' })
@Check('channel_events_kind_check', `kind IN ('credentials_rejected', 'test')`)
@Index('channel_events_channel_created_idx', ['channelId', 'createdAt', 'id'])
export class ChannelEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'channel_id', type: 'uuid' })
  channelId!: string;

  @ManyToOne(() => ChannelEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'channel_id', foreignKeyConstraintName: 'channel_events_channel_fk' })
  channel?: ChannelEntity;

  @Column({ type: 'varchar', length: 32 })
  kind!: ChannelEventKind;

  /** never secrets */
  @Column({ type: 'jsonb', default: () => `'{}'` })
  detail!: Record<string, unknown>;

  @CreateDateColumn(timestampColumn('created_at'))
  createdAt!: Date;
}
