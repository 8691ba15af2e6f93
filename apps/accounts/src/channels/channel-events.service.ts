import { Injectable } from '@nestjs/common';
import type {
  AccessTokenClaims,
  ChannelEventKind,
  ChannelEventResponseDto,
  Page,
  PageQueryDto,
} from '@tollgate/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { iso } from '../common/dates';
import { keysetPage } from '../common/pagination';
import { ChannelEventEntity } from './channel-event.entity';
import { ChannelsService } from './channels.service';

export function toChannelEventResponse(e: ChannelEventEntity): ChannelEventResponseDto {
  return {
    id: e.id,
    channelId: e.channelId,
    kind: e.kind,
    detail: e.detail,
    createdAt: iso(e.createdAt),
  };
}

/** What happened to a channel (refused credentials, tests), for its operators. */
@Injectable()
export class ChannelEventsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly channels: ChannelsService,
  ) {}

  /** Newest first; whoever may read the channel may read its events. */
  async list(
    caller: AccessTokenClaims,
    channelId: string,
    query: PageQueryDto,
  ): Promise<Page<ChannelEventResponseDto>> {
    const channel = await this.channels.loadFor(caller, channelId);
    const qb = this.dataSource
      .getRepository(ChannelEventEntity)
      .createQueryBuilder('e')
      .where('e.channel_id = :channelId', { channelId: channel.id });
    return keysetPage(qb, 'e', query, toChannelEventResponse, 'DESC');
  }

  /** Inside the caller's transaction, so the event commits with the change it records. */
  async record(
    m: EntityManager,
    channelId: string,
    kind: ChannelEventKind,
    detail: Record<string, unknown>,
  ): Promise<ChannelEventEntity> {
    return m.save(m.create(ChannelEventEntity, { channelId, kind, detail }));
  }
}
